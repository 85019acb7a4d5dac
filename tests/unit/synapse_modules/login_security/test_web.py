"""The page's session cookie, headers and CSRF binding (request notes: test_request_notes_*)."""

from __future__ import annotations

from hearth.synapse_modules.login_security import web
from hearth.synapse_modules.login_security.crypto import Keys
from hearth.synapse_modules.web_security import CsrfTokens


def test_session_cookie_and_csrf_tokens() -> None:
    """The page's session cookie is HttpOnly and SameSite=Strict; tokens bind to it."""
    session = web.new_session()
    cookie = web.session_cookie(session, "/_synapse/client/hearth/mfa", secure=True)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie
    assert "Secure" not in web.session_cookie(session, "/", secure=False)
    assert web.cookie_value(f"a=b; {web.SESSION_COOKIE}={session}; c=d") == session
    assert web.cookie_value("a=b") is None and web.cookie_value(None) is None
    tokens = CsrfTokens(Keys.from_secret(b"k" * 48).csrf)
    token = tokens.issue(session, web.CSRF_PURPOSE)
    assert tokens.verify(token, session, web.CSRF_PURPOSE)
    assert not tokens.verify(token, web.new_session(), web.CSRF_PURPOSE)


def test_headers_and_origin() -> None:
    headers = web.page_headers("n0nce")
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "style-src 'nonce-n0nce'" in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert "'unsafe-inline'" not in csp and "script-src" not in csp
    assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"
    assert web.same_origin(None, "https://hs.example/")
    assert web.same_origin("https://hs.example", "https://hs.example/")
    assert not web.same_origin("https://evil.example", "https://hs.example/")
