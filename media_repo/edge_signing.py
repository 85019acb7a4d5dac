"""Signed download URLs for the media edge, in the form nginx's ``secure_link`` checks.

The edge (deploy/templates/media-edge.conf.j2) serves an object only when the URL carries
``md5`` and ``expires`` such that ``md5`` is the MD5 of ``"<expires><path> <secret>"``
(``secure_link_md5 "$secure_link_expires$uri <secret>"``), base64url without padding, and
``expires`` (Unix seconds) is not in the past. ``sign`` writes such URLs for the homeserver's
redirects; ``verify`` applies nginx's rule, so both sides can be tested against each other.

``path`` is the URL path exactly as nginx sees it in ``$uri``: percent-decoded and
normalised (no ``//``, ``.`` or ``..`` segments). ``sign`` refuses any other path, because
nginx would hash the normalised form and refuse the link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import quote, urlsplit

__all__ = ["EDGE_PATH_PREFIX", "edge_path", "secret_from_file_text", "sign", "signature",
           "verify"]

# Where the edge serves objects: ``/media-edge/<key under the bucket's prefix>``.
EDGE_PATH_PREFIX = "/media-edge/"
# nginx takes at most 24 characters of base64url for the 16-byte digest.
_MAX_MD5_CHARS = 24
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def secret_from_file_text(text: str) -> bytes:
    """The secret a secret file holds: its text without surrounding whitespace (the file
    ends with a newline), as the edge's rendered config embeds it."""
    return text.strip().encode("utf-8")


def edge_path(key: str) -> str:
    """The edge's path for the object ``key`` (relative to the bucket's prefix)."""
    return EDGE_PATH_PREFIX + key


def _check_path(path: str) -> None:
    segments = path.split("/")
    if not path.startswith("/") or any(s in ("", ".", "..") for s in segments[1:]):
        raise ValueError(f"not a normalised absolute path (as nginx's $uri is): {path!r}")


def signature(path: str, secret: bytes, expires: int) -> str:
    """The ``md5`` argument for ``path`` valid until ``expires``: MD5 of
    ``"<expires><path> <secret>"``, base64url without padding."""
    # MD5 because it is what nginx's secure_link computes; the secret is what protects it.
    digest = hashlib.md5(f"{expires}{path} ".encode() + secret, usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(base_url: str, path: str, secret: bytes, expires: int) -> str:
    """The URL of ``path`` on the edge at ``base_url``, valid until ``expires`` (Unix
    seconds). A path in ``base_url`` (``https://cdn.example.org/edge``) is part of what the
    edge sees and so of what is signed."""
    if expires <= 0:
        raise ValueError(f"expires must be a positive Unix time, got {expires}")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"not an http(s) base URL without query: {base_url!r}")
    full_path = parts.path.rstrip("/") + path
    _check_path(full_path)
    md5 = signature(full_path, secret, expires)
    return f"{parts.scheme}://{parts.netloc}{quote(full_path)}?md5={md5}&expires={expires}"


def _digest_of(md5: str) -> bytes | None:
    """The 16 bytes nginx decodes from the ``md5`` argument, or None where nginx refuses it
    (too long, not base64url, not 16 bytes). Like nginx, decoding stops at ``=``."""
    if len(md5) > _MAX_MD5_CHARS:
        return None
    body = md5.split("=", 1)[0]
    if _BASE64URL.fullmatch(body) is None or len(body) % 4 == 1:
        return None
    decoded = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    return decoded if len(decoded) == 16 else None


def verify(path: str, md5: str, expires: int, secret: bytes, now: int) -> bool:
    """Whether the edge serves ``path`` for these ``md5`` and ``expires`` at ``now``: the
    digest matches and ``expires`` is positive and not before ``now`` (nginx's rule)."""
    digest = _digest_of(md5)
    if digest is None or expires <= 0:
        return False
    expected = base64.urlsafe_b64decode(signature(path, secret, expires) + "==")
    return hmac.compare_digest(digest, expected) and expires >= now
