"""Malformed one-time codes, at every place that reads one: a clear refusal, never a 500.

At ``/login`` a malformed code counts as a failed attempt, like a wrong code (a guesser
must not get free tries by writing codes oddly).
"""
# ruff: noqa: RUF001 - look-alike digits and letters are what these tests try

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.harness.clients import ClientFactory, User
from tests.harness.logins import (
    ADMIN_API,
    LOGIN,
    MFA_API,
    MFA_FIELD,
    MFA_PAGE,
    TOTP_TYPE,
    enrol,
    identifier,
    metric,
    metrics,
    page_field,
    request,
)
from tests.harness.server import Homeserver

# Strings an attacker tries in a code field; none is six ASCII digits or a recovery code.
MALFORMED_CODES = [
    pytest.param("١٢٣٤٥٦", id="arabic-indic"),
    pytest.param("۱۲۳۴۵۶", id="extended-arabic-indic"),
    pytest.param("１２３４５６", id="full-width"),
    pytest.param("¹²³⁴⁵⁶", id="superscript"),
    pytest.param("१२३४५६", id="devanagari"),
    pytest.param("12345", id="five-digits"),
    pytest.param("1234567", id="seven-digits"),
    pytest.param("+12345", id="plus-sign"),
    pytest.param("-12345", id="minus-sign"),
    pytest.param("", id="empty"),
    pytest.param("12345\x00", id="nul"),
    pytest.param("12345\ud800", id="lone-surrogate"),
    pytest.param("1" * 100_000, id="huge"),
]
NON_STRING_CODES = [
    pytest.param(123456, id="number"),
    pytest.param(None, id="null"),
    pytest.param(True, id="boolean"),
    pytest.param(["123456"], id="list"),
    pytest.param({"code": "123456"}, id="object"),
]


def as_json(body: dict[str, Any]) -> bytes:
    """The body with non-ASCII escaped, so lone surrogates reach the server as \\udXXX."""
    return json.dumps(body).encode("ascii")


async def failed_attempts(server: Homeserver, admin: User, user: User) -> int:
    status = await request(server, "GET", f"{ADMIN_API}/users/{quote(user.user_id)}",
                           token=admin.client.api.token)
    assert status.status == 200, status
    count: int = status.body["failed_attempts"]
    return count


@pytest.mark.parametrize("code", MALFORMED_CODES)
async def test_malformed_code_with_the_totp_login_type_is_a_counted_failure(
    clients: ClientFactory, code: str
) -> None:
    """``org.hearth.login.totp`` with the right password: 403 invalid_code, counted."""
    server = clients.server
    user = await clients.user("badcode")
    admin = await clients.user("badcodeadm", admin=True)
    await enrol(server, user.client.api.token, user.password)

    reply = await request(server, "POST", LOGIN, raw=as_json({
        "type": TOTP_TYPE, "identifier": identifier(user.user_id), "password": user.password,
        "code": code}))
    assert (reply.status, reply.errcode, reply.body.get(MFA_FIELD)) == (
        403, "M_FORBIDDEN", "invalid_code"), reply
    assert await failed_attempts(server, admin, user) == 1


@pytest.mark.parametrize("code", NON_STRING_CODES)
async def test_non_string_code_with_the_totp_login_type_is_a_counted_failure(
    clients: ClientFactory, code: object
) -> None:
    """A code that is not a JSON string: 400 M_INVALID_PARAM naming 'code', counted."""
    server = clients.server
    user = await clients.user("typedcode")
    admin = await clients.user("typedcodeadm", admin=True)
    await enrol(server, user.client.api.token, user.password)
    before = metric(await metrics(server), "hearth_login_failures_total", reason="malformed")

    reply = await request(server, "POST", LOGIN, raw=as_json({
        "type": TOTP_TYPE, "identifier": identifier(user.user_id), "password": user.password,
        "code": code}))
    assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM"), reply
    assert "'code'" in reply.body["error"]
    assert await failed_attempts(server, admin, user) == 1
    assert metric(await metrics(server), "hearth_login_failures_total",
                  reason="malformed") == before + 1


@pytest.mark.parametrize("code", [p for p in MALFORMED_CODES if p.id not in
                                  ("empty", "lone-surrogate")])
async def test_malformed_code_after_the_password_is_a_counted_failure(
    clients: ClientFactory, code: str
) -> None:
    """``m.login.password`` with password + malformed code: 403 M_FORBIDDEN, counted."""
    server = clients.server
    user = await clients.user("suffix")
    admin = await clients.user("suffixadm", admin=True)
    await enrol(server, user.client.api.token, user.password)

    reply = await request(server, "POST", LOGIN, raw=as_json({
        "type": "m.login.password", "identifier": identifier(user.user_id),
        "password": user.password + code}))
    assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN"), reply
    assert await failed_attempts(server, admin, user) == 1


async def test_non_ascii_digit_codes_lock_the_account_like_wrong_codes(
    clients: ClientFactory,
) -> None:
    """Five Arabic-Indic codes lock the account: the next login is M_USER_LOCKED."""
    server = clients.server
    user = await clients.user("arabiclock")
    await enrol(server, user.client.api.token, user.password)
    for _ in range(5):
        reply = await request(server, "POST", LOGIN, raw=as_json({
            "type": TOTP_TYPE, "identifier": identifier(user.user_id),
            "password": user.password, "code": "١٢٣٤٥٦"}))
        assert reply.status == 403, reply
    locked = await request(server, "POST", LOGIN, raw=as_json({
        "type": TOTP_TYPE, "identifier": identifier(user.user_id), "password": user.password,
        "code": "٠٠٠٠٠٠"}))
    assert (locked.status, locked.errcode) == (403, "M_USER_LOCKED"), locked


@pytest.mark.parametrize("code", MALFORMED_CODES + NON_STRING_CODES)
async def test_malformed_code_at_the_api_confirm_is_400(
    clients: ClientFactory, code: object
) -> None:
    """POST .../mfa/totp/confirm: 400 M_INVALID_PARAM naming 'code'."""
    server = clients.server
    user = await clients.user("apicode")
    token = user.client.api.token
    begun = await request(server, "POST", f"{MFA_API}/totp/begin", {}, token=token)
    assert begun.status == 200, begun
    before = metric(await metrics(server), "hearth_login_malformed_input_total",
                    endpoint="api", reason="code")

    reply = await request(server, "POST", f"{MFA_API}/totp/confirm", token=token,
                          raw=as_json({"code": code, "password": user.password}))
    assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM"), reply
    assert "'code'" in reply.body["error"]
    assert metric(await metrics(server), "hearth_login_malformed_input_total",
                  endpoint="api", reason="code") == before + 1


@pytest.mark.parametrize("code", [p for p in MALFORMED_CODES if p.id != "lone-surrogate"])
async def test_malformed_code_on_the_enrolment_page_is_a_400_page(
    clients: ClientFactory, code: str
) -> None:
    """The page's confirm form: 400, the form again asking for the 6 digits."""
    server = clients.server
    user = await clients.user("pagecode")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as browser:
        page = await browser.get(MFA_PAGE)
        csrf = page_field(page.text, "csrf_token")
        signed_in = await browser.post(MFA_PAGE, data={
            "action": "sign_in", "csrf_token": csrf, "user": user.localpart,
            "password": user.password})
        assert signed_in.status_code == 200, signed_in.text
        reply = await browser.post(MFA_PAGE, data={
            "action": "confirm", "csrf_token": csrf, "user": user.user_id,
            "ticket": page_field(signed_in.text, "ticket"), "code": code})
    assert reply.status_code == 400, reply.text
    assert "6 digits" in reply.text
