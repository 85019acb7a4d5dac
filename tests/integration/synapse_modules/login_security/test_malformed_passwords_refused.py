"""Passwords that cannot be checked (lone surrogates, wrong JSON types), NUL and huge ones.

At ``/login`` (both password login types), re-authentication (UIA) and the MFA API: a
Matrix error with the right status, never a 500.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.harness.accounts import CLIENT_V3, start_uia
from tests.harness.clients import ClientFactory
from tests.harness.logins import (
    LOGIN,
    MFA_API,
    MFA_PAGE,
    TOTP_TYPE,
    identifier,
    page_field,
    request,
)

# Passwords no account can have because they are not Unicode text.
UNCHECKABLE = [
    pytest.param("\ud800", id="lone-high-surrogate"),
    pytest.param("pass\udc80word", id="lone-low-surrogate"),
    pytest.param("half-an-emoji\ud83d", id="half-an-emoji"),
]
NON_STRING = [
    pytest.param(123456, id="number"),
    pytest.param(None, id="null"),
    pytest.param(True, id="boolean"),
    pytest.param(["p"], id="list"),
    pytest.param({"p": 1}, id="object"),
]
# Text a password field may hold that simply is not the password.
WRONG_TEXT = [
    pytest.param("pass\x00word", id="nul"),
    pytest.param("x" * 200_000, id="very-long"),
    pytest.param("", id="empty"),
]


def as_json(body: dict[str, Any]) -> bytes:
    """The body with non-ASCII escaped, so lone surrogates reach the server as \\udXXX."""
    return json.dumps(body).encode("ascii")


def assert_matrix_error(reply: Any, status: int, errcode: str) -> None:
    assert (reply.status, reply.errcode) == (status, errcode), reply
    assert isinstance(reply.body.get("error"), str) and reply.body["error"]


@pytest.mark.parametrize("login_type", ["m.login.password", TOTP_TYPE])
@pytest.mark.parametrize("password", UNCHECKABLE)
async def test_uncheckable_password_at_login_is_400(
    clients: ClientFactory, password: str, login_type: str
) -> None:
    """A lone surrogate: 400 M_INVALID_PARAM naming 'password', for a real account."""
    user = await clients.user("surrogate")
    reply = await request(clients.server, "POST", LOGIN, raw=as_json({
        "type": login_type, "identifier": identifier(user.user_id), "password": password,
        "code": "123456"}))
    assert_matrix_error(reply, 400, "M_INVALID_PARAM")
    assert "'password'" in reply.body["error"]


@pytest.mark.parametrize("login_type", ["m.login.password", TOTP_TYPE])
@pytest.mark.parametrize("password", NON_STRING)
async def test_non_string_password_at_login_is_400(
    clients: ClientFactory, password: object, login_type: str
) -> None:
    """A password that is not a JSON string: 400 M_INVALID_PARAM."""
    user = await clients.user("typedpw")
    reply = await request(clients.server, "POST", LOGIN, raw=as_json({
        "type": login_type, "identifier": identifier(user.user_id), "password": password,
        "code": "123456"}))
    assert_matrix_error(reply, 400, "M_INVALID_PARAM")


@pytest.mark.parametrize("login_type", ["m.login.password", TOTP_TYPE])
@pytest.mark.parametrize("password", WRONG_TEXT)
async def test_nul_or_huge_password_at_login_is_a_wrong_password(
    clients: ClientFactory, password: str, login_type: str
) -> None:
    """NUL, 200 000 characters, empty: 403 M_FORBIDDEN like any wrong password."""
    user = await clients.user("oddpw")
    reply = await request(clients.server, "POST", LOGIN, raw=as_json({
        "type": login_type, "identifier": identifier(user.user_id), "password": password,
        "code": "123456"}))
    assert_matrix_error(reply, 403, "M_FORBIDDEN")


@pytest.mark.parametrize("password", UNCHECKABLE + NON_STRING + WRONG_TEXT)
async def test_odd_password_in_user_interactive_auth_is_refused(
    clients: ClientFactory, password: object
) -> None:
    """Deleting a device with such a password: a 4xx Matrix error and the device stays."""
    server = clients.server
    user = await clients.user("uiapw")
    token = user.client.api.token
    device = user.client.device_id
    path = f"{CLIENT_V3}/delete_devices"
    challenge = await start_uia(server, "POST", path, {"devices": [device]}, token=token)
    reply = await request(server, "POST", path, token=token, raw=as_json({
        "devices": [device], "auth": {
            "type": "m.login.password", "identifier": identifier(user.user_id),
            "password": password, "session": challenge.body["session"]}}))
    assert reply.status in (400, 401, 403), reply
    assert reply.errcode, reply
    devices = await request(server, "GET", f"{CLIENT_V3}/devices", token=token)
    assert device in [d["device_id"] for d in devices.body["devices"]], devices


@pytest.mark.parametrize("password", UNCHECKABLE + NON_STRING)
async def test_uncheckable_password_at_the_api_confirm_is_400(
    clients: ClientFactory, password: object
) -> None:
    """POST .../mfa/totp/confirm: 400 M_INVALID_PARAM naming 'password'."""
    user = await clients.user("apipw")
    token = user.client.api.token
    begun = await request(clients.server, "POST", f"{MFA_API}/totp/begin", {}, token=token)
    assert begun.status == 200, begun
    reply = await request(clients.server, "POST", f"{MFA_API}/totp/confirm", token=token,
                          raw=as_json({"code": "123456", "password": password}))
    assert_matrix_error(reply, 400, "M_INVALID_PARAM")
    assert "'password'" in reply.body["error"]


@pytest.mark.parametrize("password", WRONG_TEXT[:2])
async def test_nul_or_huge_password_at_the_api_confirm_is_a_wrong_password(
    clients: ClientFactory, password: str
) -> None:
    """NUL or 200 000 characters: 403 M_FORBIDDEN, the password is wrong."""
    user = await clients.user("apipw2")
    token = user.client.api.token
    await request(clients.server, "POST", f"{MFA_API}/totp/begin", {}, token=token)
    reply = await request(clients.server, "POST", f"{MFA_API}/totp/confirm", token=token,
                          raw=as_json({"code": "123456", "password": password}))
    assert_matrix_error(reply, 403, "M_FORBIDDEN")


@pytest.mark.parametrize("password", [p for p in WRONG_TEXT if p.id != "empty"])
async def test_nul_or_huge_password_on_the_page_is_a_wrong_password(
    clients: ClientFactory, password: str
) -> None:
    """The page's sign-in: 403 'Wrong user name or password'."""
    user = await clients.user("pagepw")
    async with httpx.AsyncClient(base_url=clients.server.base_url, timeout=30.0) as browser:
        page = await browser.get(MFA_PAGE)
        reply = await browser.post(MFA_PAGE, data={
            "action": "sign_in", "csrf_token": page_field(page.text, "csrf_token"),
            "user": user.localpart, "password": password})
    assert reply.status_code == 403, reply.text[:300]
    assert "Wrong user name or password" in reply.text
