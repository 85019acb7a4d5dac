"""The login security APIs and page: 400 for malformed input, 403 for non-admins, CSRF."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.harness.clients import ClientFactory
from tests.harness.logins import (
    ADMIN_API,
    LOGIN,
    MFA_API,
    MFA_PAGE,
    TOTP_TYPE,
    identifier,
    page_field,
    request,
    totp_login,
)


async def test_malformed_input_gets_400_with_a_clear_message(clients: ClientFactory) -> None:
    """Bad JSON, missing or mistyped fields, bad IDs: 400 naming what is wrong."""
    server = clients.server
    user = await clients.user("badinput")
    admin = await clients.user("badadmin", admin=True)
    token, admin_token = user.client.api.token, admin.client.api.token

    not_json = await request(server, "POST", f"{MFA_API}/totp/confirm", token=token,
                             raw=b"{not json")
    assert (not_json.status, not_json.errcode) == (400, "M_NOT_JSON"), not_json
    not_object = await request(server, "POST", f"{MFA_API}/totp/confirm", [1], token=token)
    assert (not_object.status, not_object.errcode) == (400, "M_BAD_JSON"), not_object
    missing = await request(server, "POST", f"{MFA_API}/totp/confirm", {"code": "123456"},
                            token=token)
    assert (missing.status, missing.errcode) == (400, "M_MISSING_PARAM"), missing
    assert "'password'" in missing.body["error"]
    mistyped = await request(server, "POST", f"{MFA_API}/totp/confirm",
                             {"code": 123456, "password": user.password}, token=token)
    assert (mistyped.status, mistyped.errcode) == (400, "M_INVALID_PARAM"), mistyped
    assert "'code'" in mistyped.body["error"]
    short = await request(server, "POST", f"{MFA_API}/totp/confirm",
                          {"code": "12ab5", "password": user.password}, token=token)
    assert (short.status, short.errcode) == (400, "M_INVALID_PARAM")
    assert "6 digits" in short.body["error"]
    nothing = await request(server, "POST", f"{MFA_API}/totp/confirm",
                            {"code": "123456", "password": user.password}, token=token)
    assert (nothing.status, nothing.errcode) == (400, "M_INVALID_PARAM"), nothing
    assert "start one first" in nothing.body["error"]

    login_code = await totp_login(server, user.user_id, user.password, 123456)
    assert (login_code.status, login_code.errcode) == (400, "M_INVALID_PARAM"), login_code
    assert "'code'" in login_code.body["error"]
    no_code = await request(server, "POST", LOGIN, {
        "type": TOTP_TYPE, "identifier": identifier(user.user_id), "password": user.password})
    assert no_code.status == 400 and "code" in no_code.body["error"], no_code

    for raw_user, status, errcode in (("alice", 400, "M_INVALID_PARAM"),
                                      ("@nobody-here:localhost", 404, "M_NOT_FOUND"),
                                      ("@alice:elsewhere.example", 400, "M_INVALID_PARAM")):
        reply = await request(server, "GET", f"{ADMIN_API}/users/{quote(raw_user)}",
                              token=admin_token)
        assert (reply.status, reply.errcode) == (status, errcode), (raw_user, reply)
    bad_address = await request(server, "POST", f"{ADMIN_API}/addresses/999.1.2.3/unlock", {},
                                token=admin_token)
    assert (bad_address.status, bad_address.errcode) == (400, "M_INVALID_PARAM")
    unknown = await request(server, "GET", f"{ADMIN_API}/nothing", token=admin_token)
    assert (unknown.status, unknown.errcode) == (404, "M_NOT_FOUND")


@pytest.mark.parametrize(("method", "suffix"), [
    pytest.param("GET", "", id="status"),
    pytest.param("POST", "/unlock", id="unlock"),
    pytest.param("POST", "/mfa/reset", id="mfa-reset"),
])
async def test_non_admins_get_403_from_admin_endpoints(
    clients: ClientFactory, method: str, suffix: str
) -> None:
    """A normal user gets 403 M_FORBIDDEN; no token gets 401 M_MISSING_TOKEN."""
    server = clients.server
    user = await clients.user("notadmin")
    other = await clients.user("victim")
    path = f"{ADMIN_API}/users/{quote(other.user_id)}{suffix}"
    body = {} if method == "POST" else None
    refused = await request(server, method, path, body, token=user.client.api.token)
    assert (refused.status, refused.errcode) == (403, "M_FORBIDDEN"), refused
    assert "administrators" in refused.body["error"]
    anonymous = await request(server, method, path, body)
    assert (anonymous.status, anonymous.errcode) == (401, "M_MISSING_TOKEN"), anonymous
    address = await request(server, "POST", f"{ADMIN_API}/addresses/192.0.2.1/unlock", {},
                            token=user.client.api.token)
    assert (address.status, address.errcode) == (403, "M_FORBIDDEN")


async def test_enrolment_page_headers_and_csrf(clients: ClientFactory) -> None:
    """The page sends strict security headers; a POST without a matching CSRF token fails."""
    server = clients.server
    user = await clients.user("pagecsrf")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as browser:
        page = await browser.get(MFA_PAGE)
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp and "'unsafe-inline'" not in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
        cookie = page.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        csrf = page_field(page.text, "csrf_token")
        form = {"action": "sign_in", "user": user.localpart, "password": user.password}

        forged = await browser.post(MFA_PAGE, data={**form, "csrf_token": "x" * 43})
        assert forged.status_code == 403 and "expired" in forged.text
        cross_site = await browser.post(MFA_PAGE, data={**form, "csrf_token": csrf},
                                        headers={"Origin": "https://evil.example"})
        assert cross_site.status_code == 403
        wrong = await browser.post(MFA_PAGE, data={**form, "csrf_token": csrf,
                                                   "password": "not-it-1"})
        assert wrong.status_code == 403 and "Wrong user name or password" in wrong.text
        accepted = await browser.post(MFA_PAGE, data={**form, "csrf_token": csrf})
        assert accepted.status_code == 200 and "<svg" in accepted.text, accepted.text
        assert accepted.headers["x-frame-options"] == "DENY"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as other_browser:
        no_cookie = await other_browser.post(MFA_PAGE, data={**form, "csrf_token": csrf})
        assert no_cookie.status_code == 403
