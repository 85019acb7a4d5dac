"""Web security helpers: strict headers on module pages, CSRF tokens bound to a session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from twisted.web.test.requesthelper import DummyRequest

from hearth.synapse_modules.web_security import (
    CsrfTokens,
    apply_security_headers,
    content_security_policy,
    secure_page,
    security_headers,
)

SECRET = b"0123456789abcdef0123456789abcdef"


def test_default_headers_are_strict() -> None:
    """No scripts, no framing, same-origin forms, no sniffing, no referrer, no caching."""
    headers = security_headers()
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert "script-src" not in csp  # falls back to default-src 'none'
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"


def test_csp_directives_overridable() -> None:
    """A page can loosen or add one directive and keep the rest."""
    csp = content_security_policy(style_src="'self' 'nonce-abc'", img_src="'self' data:")
    assert "style-src 'self' 'nonce-abc'" in csp and "img-src 'self' data:" in csp
    assert "frame-ancestors 'none'" in csp
    assert security_headers(csp)["Content-Security-Policy"] == csp


def test_headers_set_on_twisted_request() -> None:
    """apply_security_headers and @secure_page set the headers on a real Twisted request."""
    request = DummyRequest([b""])
    apply_security_headers(request)
    assert request.responseHeaders.getRawHeaders(b"X-Frame-Options") == [b"DENY"]

    class Page:
        @secure_page
        def render_GET(self, request: Any) -> bytes:
            return b"<html></html>"

    other = DummyRequest([b""])
    assert Page().render_GET(other) == b"<html></html>"
    for name, value in security_headers().items():
        assert other.responseHeaders.getRawHeaders(name.encode()) == [value.encode()]


def test_csrf_token_round_trip_and_binding() -> None:
    """A token verifies for its session and purpose only."""
    tokens = CsrfTokens(SECRET)
    token = tokens.issue("session-a", "totp-enrol")
    assert tokens.verify(token, "session-a", "totp-enrol")
    assert not tokens.verify(token, "session-b", "totp-enrol")
    assert not tokens.verify(token, "session-a", "totp-disable")
    assert tokens.issue("session-a", "totp-enrol") != token  # random nonce each time
    assert not CsrfTokens(b"another-secret-of-32-bytes-long!").verify(token, "session-a",
                                                                      "totp-enrol")


@pytest.mark.parametrize(
    "forged",
    ["", "v1", "v1.1.2", "v2.1.abc.def", "v1.x.abc.def", "v1.1.abc.def", "a" * 500, None],
)
def test_csrf_forged_or_malformed_tokens_refused(forged: str | None) -> None:
    """Anything not issued by us is refused without raising."""
    assert not CsrfTokens(SECRET).verify(forged, "session-a", "form")


def test_csrf_tampered_token_refused() -> None:
    """Changing the timestamp or the MAC invalidates a token."""
    tokens = CsrfTokens(SECRET, clock=lambda: 1_000_000.0)
    version, issued, nonce, mac = tokens.issue("s", "form").split(".")
    assert not tokens.verify(".".join((version, str(int(issued) + 1), nonce, mac)), "s", "form")
    tampered = mac[:-1] + ("B" if mac.endswith("A") else "A")
    assert not tokens.verify(".".join((version, issued, nonce, tampered)), "s", "form")


def test_csrf_token_expires() -> None:
    """A token is valid for max_age_s, and not one issued in the future."""
    now = [1_000_000.0]
    tokens = CsrfTokens(SECRET, max_age_s=600, clock=lambda: now[0])
    token = tokens.issue("s", "form")
    now[0] += 600
    assert tokens.verify(token, "s", "form")
    now[0] += 1
    assert not tokens.verify(token, "s", "form")
    now[0] = 1_000_000.0 - 3600
    assert not tokens.verify(token, "s", "form")


def test_csrf_secret_checks(tmp_path: Path) -> None:
    """Short secrets and empty sessions are refused; a secret file works."""
    with pytest.raises(ValueError, match="at least 16 bytes"):
        CsrfTokens(b"short")
    with pytest.raises(ValueError, match="non-empty session"):
        CsrfTokens(SECRET).issue("", "form")
    path = tmp_path / "form_secret"
    path.write_bytes(SECRET + b"\n")
    tokens = CsrfTokens.from_secret_file(path)
    assert CsrfTokens(SECRET).verify(tokens.issue("s", "f"), "s", "f")
