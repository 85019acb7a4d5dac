"""Security headers and CSRF protection for the module's HTML page (pure).

Written here because the shared helper planned for module pages
(``synapse_modules/web_security.py``) did not exist yet; swap to it when it does.

- Headers: a strict Content-Security-Policy (nothing loads but the page's own nonce'd
  stylesheet; forms post only to this origin; no framing), X-Frame-Options DENY,
  X-Content-Type-Options nosniff, no referrer, and no caching (the page shows secrets).
- CSRF: double-submit token. GET sets a random token in a cookie (HttpOnly,
  SameSite=Strict, scoped to the page's path, Secure over https) and in the form; a POST
  must carry both and they must match. A cross-site form can neither read the cookie nor
  make the browser send it (SameSite=Strict), so it cannot produce a matching pair.
"""

from __future__ import annotations

import hmac
import secrets

CSRF_COOKIE = "hearth_mfa_csrf"
CSRF_FIELD = "csrf_token"


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def security_headers(style_nonce: str) -> dict[str, str]:
    """Response headers for an HTML page whose only inline content is one nonce'd <style>."""
    return {
        "Content-Security-Policy": (
            "default-src 'none'; "
            f"style-src 'nonce-{style_nonce}'; "
            "img-src 'self' data:; "
            "form-action 'self'; "
            "frame-ancestors 'none'; "
            "base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def csrf_cookie(token: str, path: str, secure: bool) -> str:
    """The Set-Cookie value carrying the CSRF token."""
    parts = [f"{CSRF_COOKIE}={token}", f"Path={path}", "HttpOnly", "SameSite=Strict",
             "Max-Age=3600"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def cookie_value(header: str | None, name: str = CSRF_COOKIE) -> str | None:
    """The value of cookie ``name`` in a Cookie header, or None."""
    if not header:
        return None
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def csrf_ok(cookie_token: str | None, form_token: str | None) -> bool:
    """Whether a POST carries the same, non-empty token in its cookie and its form."""
    if not cookie_token or not form_token or len(cookie_token) < 16:
        return False
    return hmac.compare_digest(cookie_token.encode("utf-8"), form_token.encode("utf-8"))


def same_origin(origin: str | None, public_baseurl: str) -> bool:
    """Whether an Origin header (when the browser sent one) is this server's."""
    if origin is None or origin == "":
        return True
    expected = public_baseurl.rstrip("/")
    scheme_host = expected.split("/", 3)[:3]
    return origin.rstrip("/") == "/".join(scheme_host)
