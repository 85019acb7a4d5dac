"""Passwords that cannot be checked (lone surrogates, wrong JSON types), NUL and huge ones.

At ``/login`` (both password login types), re-authentication (UIA) and the MFA API: a
Matrix error with the right status, never a 500.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.harness.accounts import CLIENT_V3, start_uia
from tests.harness.clients import ClientFactory
from tests.harness.logins import (
    TOTP_TYPE,
    as_json,
    assert_matrix_error,
    begin_and_confirm,
    identifier,
    page_sign_in,
    raw_login,
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


def answered(passwords: list[Any], status: int, errcode: str, names_field: bool) -> list[Any]:
    """Cases for a table: each password with the answer it gets and whether it names the field."""
    return [pytest.param(p.values[0], status, errcode, names_field, id=p.id) for p in passwords]


REFUSED = ("password", "status", "errcode", "names_field")
# What /login answers to each kind of password.
AT_LOGIN = [*answered(UNCHECKABLE, 400, "M_INVALID_PARAM", True),
            *answered(NON_STRING, 400, "M_INVALID_PARAM", False),
            *answered(WRONG_TEXT, 403, "M_FORBIDDEN", False)]
# What the API's confirm answers (the empty password is not tried there).
AT_API_CONFIRM = [*answered(UNCHECKABLE + NON_STRING, 400, "M_INVALID_PARAM", True),
                  *answered(WRONG_TEXT[:2], 403, "M_FORBIDDEN", False)]


@pytest.mark.parametrize("login_type", ["m.login.password", TOTP_TYPE])
@pytest.mark.parametrize(REFUSED, AT_LOGIN)
async def test_odd_password_at_login_is_refused(
    clients: ClientFactory, login_type: str, password: object, status: int, errcode: str,
    names_field: bool,
) -> None:
    """Uncheckable or mistyped: 400 M_INVALID_PARAM; NUL, huge, empty: 403 like any wrong one."""
    user = await clients.user("oddpw")
    reply = await raw_login(clients.server, login_type, user.user_id, password, code="123456")
    assert_matrix_error(reply, status, errcode)
    if names_field:
        assert "'password'" in reply.body["error"]


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


@pytest.mark.parametrize(REFUSED, AT_API_CONFIRM)
async def test_odd_password_at_the_api_confirm_is_refused(
    clients: ClientFactory, password: object, status: int, errcode: str, names_field: bool
) -> None:
    """POST .../mfa/totp/confirm: 400 naming 'password', or 403 for NUL or huge (wrong)."""
    user = await clients.user("apipw")
    reply = await begin_and_confirm(clients.server, user.client.api.token, "123456", password)
    assert_matrix_error(reply, status, errcode)
    if names_field:
        assert "'password'" in reply.body["error"]


@pytest.mark.parametrize("password", [p for p in WRONG_TEXT if p.id != "empty"])
async def test_nul_or_huge_password_on_the_page_is_a_wrong_password(
    clients: ClientFactory, password: str
) -> None:
    """The page's sign-in: 403 'Wrong user name or password'."""
    user = await clients.user("pagepw")
    async with httpx.AsyncClient(base_url=clients.server.base_url, timeout=30.0) as browser:
        reply = await page_sign_in(browser, user.localpart, password)
    assert reply.status_code == 403, reply.text[:300]
    assert "Wrong user name or password" in reply.text
