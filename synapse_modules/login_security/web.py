"""What the enrolment page adds to the shared page helpers (``synapse_modules.web_security``).

- Headers: the project's strict set (``web_security.security_headers``), with the CSP
  allowing only the page's own ``<style>`` by nonce; plus ``Pragma: no-cache`` and
  ``Cross-Origin-Opener-Policy: same-origin``.
- CSRF: tokens from ``web_security.CsrfTokens`` (stateless HMAC, any worker can check
  them), bound to a random session ID kept in a cookie that is HttpOnly, SameSite=Strict,
  scoped to the page's path and Secure over https — a cross-site form can neither read it
  nor make the browser send it. An ``Origin`` header, when present, must be ours.
- Tickets: between sign-in and confirmation the form carries ``<expiry ms>.<signature>``,
  an HMAC over the user ID, the expiry and the session, so it is useless in another
  browser or after ten minutes.

Everything read back from the browser (cookie, Origin, ticket) is matched against the exact
ASCII shape this module writes before it is used: anything else is simply "not ours", never
an exception (``str.isdigit`` and ``int`` accept digits of every script, and
``hmac.compare_digest`` raises on non-ASCII text).
"""

from __future__ import annotations

import re
import secrets

from hearth.synapse_modules.login_security.crypto import sign, verify_signature
from hearth.synapse_modules.web_security import content_security_policy, security_headers

SESSION_COOKIE = "hearth_mfa_session"
CSRF_PURPOSE = "hearth-mfa-enrolment"
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)  # token_urlsafe(32)
_TICKET = re.compile(r"(?P<expiry>[0-9]{1,15})\.(?P<signature>[A-Za-z0-9_-]{43})", re.ASCII)
_MAX_ORIGIN_CHARS = 2048


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def new_session() -> str:
    return secrets.token_urlsafe(32)


def page_headers(style_nonce: str) -> dict[str, str]:
    """Response headers for a page whose only inline content is one nonce'd <style>."""
    headers = security_headers(content_security_policy(style_src=f"'nonce-{style_nonce}'"))
    headers["Pragma"] = "no-cache"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    return headers


def session_cookie(session: str, path: str, secure: bool) -> str:
    """The Set-Cookie value carrying the page session the CSRF tokens are bound to."""
    parts = [f"{SESSION_COOKIE}={session}", f"Path={path}", "HttpOnly", "SameSite=Strict",
             "Max-Age=3600"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def cookie_value(header: str | None, name: str = SESSION_COOKIE) -> str | None:
    """The first value of cookie ``name`` shaped like a session ID we issue, or None."""
    if not header:
        return None
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and _SESSION_ID.fullmatch(value):
            return value
    return None


def same_origin(origin: str | None, public_baseurl: str) -> bool:
    """Whether an Origin header (when the browser sent one) is this server's."""
    if origin is None or origin == "":
        return True
    if len(origin) > _MAX_ORIGIN_CHARS or not origin.isascii():
        return False
    scheme_host = public_baseurl.rstrip("/").split("/", 3)[:3]
    return origin.rstrip("/") == "/".join(scheme_host)


def new_ticket(key: bytes, user_id: str, session: str, expiry_ms: int) -> str:
    """The ticket that lets this browser session confirm ``user_id``'s enrolment until then."""
    expiry = str(expiry_ms)
    return f"{expiry}.{sign(key, user_id, expiry, session)}"


def ticket_valid(key: bytes, ticket: str, user_id: str, session: str, now_ms: int) -> bool:
    """Whether ``ticket`` is ours, for this user and session, and not expired."""
    match = _TICKET.fullmatch(ticket)
    if match is None or int(match["expiry"]) < now_ms:
        return False
    try:
        return verify_signature(key, match["signature"], user_id, match["expiry"], session)
    except UnicodeEncodeError:  # a user ID that is not text cannot have been signed
        return False
