"""What the enrolment page adds to the shared page helpers (``synapse_modules.web_security``).

- Headers: the project's strict set (``web_security.security_headers``), with the CSP
  allowing only the page's own ``<style>`` by nonce; plus ``Pragma: no-cache`` and
  ``Cross-Origin-Opener-Policy: same-origin``.
- CSRF: tokens from ``web_security.CsrfTokens`` (stateless HMAC, any worker can check
  them), bound to a random session ID kept in a cookie that is HttpOnly, SameSite=Strict,
  scoped to the page's path and Secure over https — a cross-site form can neither read it
  nor make the browser send it. An ``Origin`` header, when present, must be ours.
"""

from __future__ import annotations

import secrets

from hearth.synapse_modules.web_security import content_security_policy, security_headers

SESSION_COOKIE = "hearth_mfa_session"
CSRF_PURPOSE = "hearth-mfa-enrolment"


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
    """The value of cookie ``name`` in a Cookie header, or None."""
    if not header:
        return None
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def same_origin(origin: str | None, public_baseurl: str) -> bool:
    """Whether an Origin header (when the browser sent one) is this server's."""
    if origin is None or origin == "":
        return True
    scheme_host = public_baseurl.rstrip("/").split("/", 3)[:3]
    return origin.rstrip("/") == "/".join(scheme_host)
