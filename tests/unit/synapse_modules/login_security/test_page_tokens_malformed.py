"""The page's CSRF tokens, tickets, cookies and Origin: malformed ones are refused, never raise."""
# ruff: noqa: RUF001 - look-alike digits and letters are what these tests try

from __future__ import annotations

import pytest

from hearth.synapse_modules.login_security import web
from hearth.synapse_modules.login_security.crypto import Keys
from hearth.synapse_modules.web_security import CsrfTokens

KEYS = Keys.from_secret(b"k" * 48)
NOW_MS = 1_700_000_000_000
SESSION = web.new_session()

# Shapes an attacker tries in a token-like field (CSRF token, ticket, cookie, Origin).
MALFORMED_TOKENS = [
    pytest.param("", id="empty"),
    pytest.param("é" * 43, id="non-ascii"),
    pytest.param("v1.١٧٠٠٠٠٠٠٠٠.nonce.mac", id="arabic-indic-time"),
    pytest.param("v1.¹²³.nonce.mac", id="superscript-time"),
    pytest.param("v1.1700000000.nonce.mäc", id="non-ascii-mac"),
    pytest.param("v1.1700000000.n\x00nce.mac", id="nul"),
    pytest.param("v1.1700000000.nonce.\ud800", id="lone-surrogate"),
    pytest.param("v1." + "9" * 5000 + ".a.b", id="huge-number"),
    pytest.param("x" * 100_000, id="huge"),
    pytest.param("١٧٠٠٠٠٠٠٠٠٠٠٠.ÿsig", id="ticket-arabic-expiry"),
    pytest.param("¹⁷⁰⁰.sig", id="ticket-superscript-expiry"),
    pytest.param("9999999999999.sïg", id="ticket-non-ascii-signature"),
    pytest.param("....", id="only-dots"),
]


@pytest.mark.parametrize("token", MALFORMED_TOKENS)
def test_malformed_csrf_token_is_refused(token: str) -> None:
    """CsrfTokens.verify answers False."""
    tokens = CsrfTokens(KEYS.csrf, clock=lambda: NOW_MS / 1000)
    assert tokens.verify(token, SESSION, web.CSRF_PURPOSE) is False


@pytest.mark.parametrize("token", MALFORMED_TOKENS)
def test_malformed_ticket_is_refused(token: str) -> None:
    """ticket_valid answers False."""
    assert web.ticket_valid(KEYS.tickets, token, "@a:hs.example", SESSION, NOW_MS) is False


@pytest.mark.parametrize("token", MALFORMED_TOKENS)
def test_malformed_session_cookie_is_no_session(token: str) -> None:
    """cookie_value gives None for a cookie that is not a session ID this page made."""
    assert web.cookie_value(f"{web.SESSION_COOKIE}={token}") is None


@pytest.mark.parametrize("token", MALFORMED_TOKENS)
def test_malformed_origin_is_not_ours(token: str) -> None:
    """same_origin is False for anything but our own origin (an empty header is absent)."""
    if token:
        assert web.same_origin(token, "https://hs.example/") is False


def test_well_formed_ticket_and_cookie_pass() -> None:
    """A ticket for this user and session, before it expires; a session cookie we issued."""
    ticket = web.new_ticket(KEYS.tickets, "@a:hs.example", SESSION, NOW_MS + 60_000)
    assert web.ticket_valid(KEYS.tickets, ticket, "@a:hs.example", SESSION, NOW_MS)
    assert not web.ticket_valid(KEYS.tickets, ticket, "@b:hs.example", SESSION, NOW_MS)
    assert not web.ticket_valid(KEYS.tickets, ticket, "@a:hs.example", web.new_session(),
                                NOW_MS)
    assert not web.ticket_valid(KEYS.tickets, ticket, "@a:hs.example", SESSION,
                                NOW_MS + 60_001)
    assert web.cookie_value(f"x=1; {web.SESSION_COOKIE}={SESSION}") == SESSION
