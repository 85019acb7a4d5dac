"""TOTP (RFC 6238) codes and one-time recovery codes (pure, no Synapse).

Codes are the authenticator-app default: SHA-1, 6 digits, 30-second steps. A code is
accepted within one step either side of now (clock skew of up to about 30 s each way), and
``matching_step`` returns which step matched so the store can refuse a step that was
already used (a code seen over someone's shoulder cannot be replayed).

Recovery codes are 10 random base32 characters shown as ``abcde-fghij`` (50 bits each);
only a keyed hash of each is stored.

Both kinds are ASCII only. ``\\d`` and ``str.isdigit`` also accept Arabic-Indic,
full-width and other digits, which ``hmac.compare_digest`` then refuses to compare (it
raises); so every parser here spells out ``[0-9]`` and answers None for anything else,
whatever its type or length.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
from urllib.parse import quote

import pyotp
import qrcode
import qrcode.image.svg

DIGITS = 6
PERIOD_S = 30
WINDOW_STEPS = 1
SECRET_CHARS = 32  # base32 characters: 160 bits, the RFC 4226 recommendation
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
MAX_CODE_CHARS = 64  # far more than any spaced-out code; longer input is no code
RECOVERY_CODE = re.compile(r"[a-z2-7]{5}-?[a-z2-7]{5}", re.ASCII)
TOTP_CODE = re.compile(r"[0-9]{6}", re.ASCII)
# What may follow a password as a second factor: a TOTP code, or a recovery code with its dash.
TOTP_SUFFIX = re.compile(r"(?P<password>.+?)(?P<code>[0-9]{6})\Z", re.DOTALL | re.ASCII)
RECOVERY_SUFFIX = re.compile(r"(?P<password>.+?)(?P<code>[A-Za-z2-7]{5}-[A-Za-z2-7]{5})\Z",
                             re.DOTALL | re.ASCII)


def new_secret() -> str:
    """A fresh random base32 TOTP secret."""
    return pyotp.random_base32(length=SECRET_CHARS)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI authenticator apps read from the QR code."""
    label = quote(f"{issuer}:{account}", safe=":@")
    return (f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer, safe='')}"
            f"&algorithm=SHA1&digits={DIGITS}&period={PERIOD_S}")


def normalize_code(code: object) -> str | None:
    """Six ASCII digits (spaces removed), or None for anything else of any type."""
    if not isinstance(code, str) or len(code) > MAX_CODE_CHARS:
        return None
    cleaned = code.replace(" ", "").strip("\t\r\n")
    return cleaned if TOTP_CODE.fullmatch(cleaned) else None


def code_at(secret: str, step: int) -> str:
    """The code for time step ``step`` (``unix_time // 30``)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD_S).generate_otp(step)


def current_step(now_s: float) -> int:
    return int(now_s // PERIOD_S)


def matching_step(secret: str, code: object, now_s: float, window: int = WINDOW_STEPS
                  ) -> int | None:
    """The time step whose code equals ``code`` within ``window`` steps of now, or None."""
    normalized = normalize_code(code)
    if normalized is None:
        return None
    now_step = current_step(now_s)
    found: int | None = None
    # Compare against every candidate (constant work) and prefer the latest match.
    for step in range(now_step - window, now_step + window + 1):
        if hmac.compare_digest(code_at(secret, step), normalized):
            found = step
    return found


def new_recovery_codes(count: int) -> list[str]:
    """``count`` distinct recovery codes such as ``k3mfa-q7zpx``."""
    codes: set[str] = set()
    while len(codes) < count:
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.add(f"{raw[:5]}-{raw[5:]}")
    return sorted(codes)


def normalize_recovery_code(code: object) -> str | None:
    """The canonical ``abcde-fghij`` form (case and dash forgiven), or None.

    ASCII is checked before lower-casing: ``"\\u212a".lower()`` (the Kelvin sign) is ``k``.
    """
    if not isinstance(code, str) or len(code) > MAX_CODE_CHARS or not code.isascii():
        return None
    cleaned = code.strip().lower().replace(" ", "")
    if not RECOVERY_CODE.fullmatch(cleaned):
        return None
    bare = cleaned.replace("-", "")
    return f"{bare[:5]}-{bare[5:]}"


def hash_recovery_code(key: bytes, code: str) -> str:
    """Keyed hash of a normalized recovery code: a stolen table alone cannot be tried offline."""
    return hmac.new(key, code.encode("ascii"), hashlib.sha256).hexdigest()


def qr_svg(data: str) -> str:
    """An inline ``<svg>`` QR code of ``data`` (no XML declaration, no scripts, no styles)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10,
                        border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    text = buffer.getvalue().decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else text
