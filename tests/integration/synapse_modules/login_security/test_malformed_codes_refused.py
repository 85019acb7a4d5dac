"""Malformed one-time codes, at every place that reads one: a clear refusal, never a 500.

At ``/login`` a malformed code counts as a failed attempt, like a wrong code (a guesser
must not get free tries by writing codes oddly).
"""
# ruff: noqa: RUF001 - look-alike digits and letters are what these tests try

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.harness.clients import ClientFactory, User
from tests.harness.logins import (
    ADMIN_API,
    MALFORMED_CODES,
    MFA_FIELD,
    MFA_PAGE,
    NON_STRING_CODES,
    TOTP_TYPE,
    begin_and_confirm,
    enrol,
    malformed_inputs,
    metric,
    metrics,
    page_signed_in,
    raw_login,
    request,
)
from tests.harness.server import Homeserver


async def failed_attempts(server: Homeserver, admin: User, user: User) -> int:
    status = await request(server, "GET", f"{ADMIN_API}/users/{quote(user.user_id)}",
                           token=admin.client.api.token)
    assert status.status == 200, status
    count: int = status.body["failed_attempts"]
    return count


async def enrolled_and_watched(clients: ClientFactory, prefix: str) -> tuple[User, User]:
    """An account with TOTP set up, and an admin who can read its failed attempts."""
    user = await clients.user(prefix)
    admin = await clients.user(prefix + "adm", admin=True)
    await enrol(clients.server, user.client.api.token, user.password)
    return user, admin


@pytest.mark.parametrize("code", MALFORMED_CODES)
async def test_malformed_code_with_the_totp_login_type_is_a_counted_failure(
    clients: ClientFactory, code: str
) -> None:
    """``org.hearth.login.totp`` with the right password: 403 invalid_code, counted."""
    server = clients.server
    user, admin = await enrolled_and_watched(clients, "badcode")

    reply = await raw_login(server, TOTP_TYPE, user.user_id, user.password, code=code)
    assert (reply.status, reply.errcode, reply.body.get(MFA_FIELD)) == (
        403, "M_FORBIDDEN", "invalid_code"), reply
    assert await failed_attempts(server, admin, user) == 1


@pytest.mark.parametrize("code", NON_STRING_CODES)
async def test_non_string_code_with_the_totp_login_type_is_a_counted_failure(
    clients: ClientFactory, code: object
) -> None:
    """A code that is not a JSON string: 400 M_INVALID_PARAM naming 'code', counted."""
    server = clients.server
    user, admin = await enrolled_and_watched(clients, "typedcode")
    before = metric(await metrics(server), "hearth_login_failures_total", reason="malformed")

    reply = await raw_login(server, TOTP_TYPE, user.user_id, user.password, code=code)
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
    user, admin = await enrolled_and_watched(clients, "suffix")

    reply = await raw_login(server, "m.login.password", user.user_id, user.password + code)
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
        reply = await raw_login(server, TOTP_TYPE, user.user_id, user.password, code="١٢٣٤٥٦")
        assert reply.status == 403, reply
    locked = await raw_login(server, TOTP_TYPE, user.user_id, user.password, code="٠٠٠٠٠٠")
    assert (locked.status, locked.errcode) == (403, "M_USER_LOCKED"), locked


@pytest.mark.parametrize("code", MALFORMED_CODES + NON_STRING_CODES)
async def test_malformed_code_at_the_api_confirm_is_400(
    clients: ClientFactory, code: object
) -> None:
    """POST .../mfa/totp/confirm: 400 M_INVALID_PARAM naming 'code'."""
    server = clients.server
    user = await clients.user("apicode")
    before = await malformed_inputs(server, "api", "code")

    reply = await begin_and_confirm(server, user.client.api.token, code, user.password)
    assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM"), reply
    assert "'code'" in reply.body["error"]
    assert await malformed_inputs(server, "api", "code") == before + 1


@pytest.mark.parametrize("code", [p for p in MALFORMED_CODES if p.id != "lone-surrogate"])
async def test_malformed_code_on_the_enrolment_page_is_a_400_page(
    clients: ClientFactory, code: str
) -> None:
    """The page's confirm form: 400, the form again asking for the 6 digits."""
    server = clients.server
    user = await clients.user("pagecode")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as browser:
        csrf, ticket = await page_signed_in(browser, user.localpart, user.password)
        reply = await browser.post(MFA_PAGE, data={
            "action": "confirm", "csrf_token": csrf, "user": user.user_id,
            "ticket": ticket, "code": code})
    assert reply.status_code == 400, reply.text
    assert "6 digits" in reply.text
