"""Security headers and CSRF tokens for the HTML pages this project's modules serve.

A module registers its page with ``ModuleApi.register_web_resource`` (under
``/_synapse/client/``); the page's render method then uses this module:

- :func:`apply_security_headers` (or the :func:`secure_page` decorator) sets a strict
  Content-Security-Policy (no scripts, no framing, forms only to the same origin), plus
  ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store`` (a page carrying a CSRF
  token or a secret must not be cached);
- :class:`CsrfTokens` issues and checks stateless tokens: an HMAC-SHA256, keyed with a server
  secret (Synapse's ``form_secret`` is meant for this), over the purpose of the form, the
  session it belongs to and the time it was issued. Nothing is stored, so any worker can check
  a token another worker issued. Bind ``session`` to something the attacker cannot know or
  set for the victim (the user-interactive auth session ID, or a random cookie set with
  ``HttpOnly; Secure; SameSite=Strict``), never to a value taken from the form itself.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

DEFAULT_CSP: Mapping[str, str] = {
    "default-src": "'none'",
    "style-src": "'self'",
    "img-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
}

CSRF_FIELD = "csrf_token"  # the hidden form field pages should use
_TOKEN_VERSION = "v1"  # noqa: S105 - a format tag, not a secret
_MIN_SECRET_BYTES = 16
_CLOCK_SKEW_S = 60
# The exact shape issue() writes; anything else is refused before it is parsed (int() and
# str.isdigit() accept digits of every script; compare_digest raises on non-ASCII text).
_TOKEN = re.compile(r"v1\.(?P<issued>[0-9]{1,12})\.(?P<nonce>[A-Za-z0-9_-]{16})"
                    r"\.(?P<mac>[A-Za-z0-9_-]{43})", re.ASCII)


def content_security_policy(**overrides: str) -> str:
    """The CSP header value: :data:`DEFAULT_CSP` with directives replaced or added.

    Directive names use underscores in keyword form: ``style_src="'self' 'nonce-abc'"``.
    """
    directives = dict(DEFAULT_CSP)
    for name, value in overrides.items():
        directives[name.replace("_", "-")] = value
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(csp: str | None = None) -> dict[str, str]:
    """Every header a page of ours sends, with ``csp`` replacing the default policy."""
    return {
        "Content-Security-Policy": csp if csp is not None else content_security_policy(),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


class HeaderSink(Protocol):
    """What a Twisted ``Request`` (and Synapse's ``SynapseRequest``) offers to set headers."""

    def setHeader(self, name: bytes, value: bytes) -> None: ...


def apply_security_headers(request: HeaderSink, csp: str | None = None) -> None:
    """Set :func:`security_headers` on ``request``."""
    for name, value in security_headers(csp).items():
        request.setHeader(name.encode("ascii"), value.encode("ascii"))


Handler = TypeVar("Handler", bound=Callable[..., Any])


def secure_page(handler: Handler) -> Handler:
    """Decorate a ``render_*(self, request)`` method so every response has the headers.

    The headers are set before the handler runs, so they are there whatever it returns or
    whether it is a coroutine function.
    """

    @functools.wraps(handler)
    def wrapper(self: object, request: HeaderSink, *args: Any, **kwargs: Any) -> Any:
        apply_security_headers(request)
        return handler(self, request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class CsrfTokens:
    """Stateless CSRF tokens bound to a session and a purpose, valid for ``max_age_s``."""

    def __init__(self, secret: bytes, max_age_s: int = 3600,
                 clock: Callable[[], float] = time.time) -> None:
        if len(secret) < _MIN_SECRET_BYTES:
            raise ValueError(f"the CSRF secret must be at least {_MIN_SECRET_BYTES} bytes")
        if max_age_s <= 0:
            raise ValueError("max_age_s must be positive")
        self._key = hashlib.sha256(b"hearth-csrf-key|" + secret).digest()
        self._max_age_s = max_age_s
        self._clock = clock

    @classmethod
    def from_secret_file(cls, path: Path, max_age_s: int = 3600) -> CsrfTokens:
        """Tokens keyed with a secret kept in a file (e.g. Synapse's ``form_secret_path``)."""
        return cls(path.read_bytes().strip(), max_age_s=max_age_s)

    def _mac(self, purpose: str, session: str, issued: str, nonce: str) -> str:
        message = "\x1f".join((_TOKEN_VERSION, purpose, session, issued, nonce)).encode("utf-8")
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def issue(self, session: str, purpose: str) -> str:
        """A new token for a form of ``purpose`` shown to ``session``."""
        if not session:
            raise ValueError("a CSRF token must be bound to a non-empty session")
        issued = str(int(self._clock()))
        nonce = _b64(secrets.token_bytes(12))
        return ".".join((_TOKEN_VERSION, issued, nonce, self._mac(purpose, session, issued, nonce)))

    def verify(self, token: object, session: str, purpose: str) -> bool:
        """Whether ``token`` was issued by us for this session and purpose, and is fresh.

        Never raises: a token of any other shape, type or length is simply not ours.
        """
        if not isinstance(token, str) or not session or len(token) > 200:
            return False
        match = _TOKEN.fullmatch(token)
        if match is None:
            return False
        issued, nonce, mac = match["issued"], match["nonce"], match["mac"]
        age = self._clock() - int(issued)
        if age > self._max_age_s or age < -_CLOCK_SKEW_S:
            return False
        try:
            expected = self._mac(purpose, session, issued, nonce)
        except UnicodeEncodeError:  # a session that is not text was never given a token
            return False
        return hmac.compare_digest(mac, expected)
