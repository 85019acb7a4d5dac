"""The enrolment page (no login needed) under malformed tokens, cookies, Origin and form bytes.

Every variant gets a page a person understands (400 or 403), never a 500.
"""
# ruff: noqa: RUF001 - look-alike digits and letters are what these tests try

from __future__ import annotations

import time
from urllib.parse import quote_from_bytes

import httpx
import pytest

from tests.harness.clients import ClientFactory
from tests.harness.logins import (
    MFA_PAGE,
    malformed_inputs,
    page_field,
    page_sign_in,
    page_signed_in,
)

NOW = str(int(time.time()))  # a fresh issue time, so the check reaches the MAC comparison
ARABIC_NOW = NOW.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
# What an attacker puts where the page expects one of its own tokens.
MALFORMED_TOKENS = [
    pytest.param("é" * 43, id="non-ascii"),
    pytest.param(f"v1.{ARABIC_NOW}.bm9uY2Utbm9uY2UtMTI.{'ä' * 43}", id="arabic-indic-digits"),
    pytest.param("v1.¹⁷⁰⁰⁰⁰⁰⁰⁰⁰.bm9uY2U.bWFj", id="superscript-digits"),
    pytest.param(f"v1.{NOW}.bm9uY2Utbm9uY2UtMTI.{'ä' * 43}", id="non-ascii-mac"),
    pytest.param(f"v1.{NOW}.n\x00nce.mac", id="nul"),
    pytest.param("v1." + "9" * 150 + ".a.b", id="huge-number"),
    pytest.param("x" * 20_000, id="huge"),
    pytest.param("", id="empty"),
]
TICKETS = [
    *MALFORMED_TOKENS,
    pytest.param("١٧٠٠٠٠٠٠٠٠٠٠٠٠.c2ln", id="ticket-arabic-expiry"),
    pytest.param("¹⁷⁰⁰⁰⁰⁰⁰⁰⁰⁰⁰⁰.c2ln", id="ticket-superscript-expiry"),
    pytest.param("99999999999999.sïgnature", id="ticket-non-ascii-signature"),
]


def assert_clear_refusal(reply: httpx.Response, status: int) -> None:
    assert reply.status_code == status, (reply.status_code, reply.text[:500])
    assert reply.headers["content-type"].startswith("text/html")
    assert "Something went wrong" not in reply.text


@pytest.mark.parametrize("token", MALFORMED_TOKENS)
async def test_malformed_csrf_token_gets_the_expired_form_page(
    clients: ClientFactory, token: str
) -> None:
    """Sign-in with a malformed CSRF token: 403 'This form has expired', counted."""
    user = await clients.user("pagecsrf")
    before = await malformed_inputs(clients.server, "page", "csrf_token")
    async with httpx.AsyncClient(base_url=clients.server.base_url, timeout=30.0) as browser:
        await browser.get(MFA_PAGE)
        reply = await browser.post(MFA_PAGE, data={
            "action": "sign_in", "csrf_token": token, "user": user.localpart,
            "password": user.password})
    assert_clear_refusal(reply, 403)
    assert "expired" in reply.text
    assert await malformed_inputs(clients.server, "page", "csrf_token") == before + 1


@pytest.mark.parametrize("ticket", TICKETS)
async def test_malformed_ticket_gets_the_setup_expired_page(
    clients: ClientFactory, ticket: str
) -> None:
    """Confirm with a malformed ticket: 403 'This setup has expired'."""
    user = await clients.user("pageticket")
    async with httpx.AsyncClient(base_url=clients.server.base_url, timeout=30.0) as browser:
        csrf, _ = await page_signed_in(browser, user.localpart, user.password)
        reply = await browser.post(MFA_PAGE, data={
            "action": "confirm", "csrf_token": csrf, "user": user.user_id, "ticket": ticket,
            "code": "123456"})
    assert_clear_refusal(reply, 403)
    assert "expired" in reply.text


@pytest.mark.parametrize("cookie", [
    *[p for p in MALFORMED_TOKENS if p.id not in ("huge", "nul")],
    pytest.param("x" * 8000, id="huge"),
    pytest.param("a;b", id="semicolon"),
    pytest.param("\"quoted\"", id="quoted"),
    pytest.param(b"\xc3\xa9\xff\xfe", id="cookie-non-utf8-bytes"),
    pytest.param("é".encode() * 43, id="cookie-utf8-non-ascii"),
])
async def test_malformed_session_cookie_gets_the_expired_form_page(
    clients: ClientFactory, cookie: str | bytes
) -> None:
    """A session cookie the page never issued, even raw non-ASCII bytes: 403, not a crash."""
    user = await clients.user("pagecookie")
    async with httpx.AsyncClient(base_url=clients.server.base_url, timeout=30.0) as browser:
        page = await browser.get(MFA_PAGE)
        csrf = page_field(page.text, "csrf_token")
    value = cookie if isinstance(cookie, bytes) else cookie.encode()
    async with httpx.AsyncClient(base_url=clients.server.base_url, timeout=30.0) as other:
        reply = await other.post(MFA_PAGE, data={
            "action": "sign_in", "csrf_token": csrf, "user": user.localpart,
            "password": user.password},
            headers=[(b"Cookie", b"hearth_mfa_session=" + value)])
    assert_clear_refusal(reply, 403)


@pytest.mark.parametrize("origin", [
    pytest.param(b"null", id="null"),
    pytest.param("https://é.example".encode(), id="utf8-non-ascii"),
    pytest.param(b"https://\xff\xfe.example", id="non-utf8-bytes"),
    pytest.param(b"x" * 8000, id="huge"),
])
async def test_foreign_or_malformed_origin_gets_the_expired_form_page(
    clients: ClientFactory, origin: bytes
) -> None:
    """An Origin that is not ours, however it is written: 403."""
    user = await clients.user("pageorigin")
    async with httpx.AsyncClient(base_url=clients.server.base_url, timeout=30.0) as browser:
        reply = await page_sign_in(browser, user.localpart, user.password,
                                   headers=[(b"Origin", origin)])
    assert_clear_refusal(reply, 403)


@pytest.mark.parametrize("field", ["action", "csrf_token", "user", "password", "ticket", "code"])
async def test_form_field_that_is_not_utf8_gets_a_400_page(
    clients: ClientFactory, field: str
) -> None:
    """Percent-encoded bytes that are not UTF-8 in any field: 400 'could not be read'."""
    user = await clients.user("pageutf")
    async with httpx.AsyncClient(base_url=clients.server.base_url, timeout=30.0) as browser:
        csrf, ticket = await page_signed_in(browser, user.localpart, user.password)
        form = {"action": "confirm", "csrf_token": csrf, "user": user.user_id,
                "ticket": ticket, "code": "123456", "password": user.password}
        encoded = {k: quote_from_bytes(v.encode()) for k, v in form.items()}
        encoded[field] = quote_from_bytes(form[field].encode() + b"\xff\xc3")
        body = "&".join(f"{k}={v}" for k, v in encoded.items())
        reply = await browser.post(MFA_PAGE, content=body.encode("ascii"), headers={
            "Content-Type": "application/x-www-form-urlencoded"})
    assert_clear_refusal(reply, 400)
    assert "could not be read" in reply.text


@pytest.mark.parametrize("user_name", [
    pytest.param("ali\x00ce", id="nul"),
    pytest.param("ali\nce", id="newline"),
    pytest.param("a" * 5000, id="huge"),
    pytest.param("@ali\x00ce:localhost", id="nul-in-user-id"),
])
async def test_unusable_user_name_on_the_page_gets_a_400_page(
    clients: ClientFactory, user_name: str
) -> None:
    """Sign-in with a user name no account can have: 400 naming the field, both databases."""
    async with httpx.AsyncClient(base_url=clients.server.base_url, timeout=30.0) as browser:
        reply = await page_sign_in(browser, user_name, "whatever-it-is-1")
    assert_clear_refusal(reply, 400)
    assert "user name" in reply.text


@pytest.mark.parametrize("content_type", [
    pytest.param("multipart/form-data; boundary=zzz", id="multipart-broken"),
    pytest.param("multipart/form-data", id="multipart-no-boundary"),
    pytest.param("application/json", id="json"),
    pytest.param("application/x-www-form-urlencoded; charset=utf-16", id="utf16"),
])
async def test_form_in_another_encoding_gets_a_clear_refusal(
    clients: ClientFactory, content_type: str
) -> None:
    """A body the page cannot read as its form: a 4xx page, never a 500."""
    async with httpx.AsyncClient(base_url=clients.server.base_url, timeout=30.0) as browser:
        await browser.get(MFA_PAGE)
        reply = await browser.post(MFA_PAGE, content=b"--zzz\r\n\xff\xfe garbage \x00",
                                   headers={"Content-Type": content_type})
    assert 400 <= reply.status_code < 500, (reply.status_code, reply.text[:300])
