"""Keys derived from the deployment's MFA secret, and TOTP secrets encrypted at rest (pure).

The secret file (``secrets/mfa_encryption_key``, generated once by ``hearth render`` like
Synapse's own secrets) is never used directly: HKDF-SHA256 derives one key per purpose.
TOTP secrets are sealed with AES-256-GCM under a random 96-bit nonce, with the user ID as
associated data, so a ciphertext copied onto another account's row does not decrypt.
Stored form: ``v1.<base64url(nonce || ciphertext || tag)>``; the version prefix leaves room
for key rotation (not implemented: changing the secret file invalidates every enrolment).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SALT = b"hearth-login-security"
VERSION = "v1"
MIN_SECRET_BYTES = 32


class DecryptionError(ValueError):
    """A stored secret that does not open under the current key (wrong key or tampered)."""


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=purpose).derive(secret)


@dataclass(frozen=True)
class Keys:
    """One key per purpose; ``repr`` shows none of them."""

    totp: bytes = field(repr=False)
    recovery: bytes = field(repr=False)
    tickets: bytes = field(repr=False)
    csrf: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: bytes) -> Keys:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the MFA secret is {len(secret)} bytes, expected at least "
                             f"{MIN_SECRET_BYTES}")
        return cls(
            totp=_derive(secret, b"totp-secrets-v1"),
            recovery=_derive(secret, b"recovery-codes-v1"),
            tickets=_derive(secret, b"web-tickets-v1"),
            csrf=_derive(secret, b"web-csrf-v1"),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> Keys:
        """Read the secret file (surrounding whitespace ignored)."""
        return cls.from_secret(Path(path).read_bytes().strip())


def encrypt_secret(keys: Keys, user_id: str, secret: str) -> str:
    """Seal a TOTP secret for ``user_id``."""
    nonce = os.urandom(12)
    sealed = AESGCM(keys.totp).encrypt(nonce, secret.encode("utf-8"), user_id.encode("utf-8"))
    return f"{VERSION}." + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt_secret(keys: Keys, user_id: str, stored: str) -> str:
    """Open a sealed TOTP secret; DecryptionError when the key or the user does not match."""
    version, _, payload = stored.partition(".")
    if version != VERSION or not payload:
        raise DecryptionError(f"unknown secret format {version!r}")
    try:
        raw = base64.urlsafe_b64decode(payload.encode("ascii"))
        opened = AESGCM(keys.totp).decrypt(raw[:12], raw[12:], user_id.encode("utf-8"))
    except Exception as exc:  # InvalidTag, binascii.Error, ValueError
        raise DecryptionError("the stored TOTP secret does not open with this key") from exc
    return opened.decode("utf-8")


def sign(key: bytes, *parts: str) -> str:
    """An HMAC-SHA256 over ``parts`` (joined unambiguously), base64url without padding."""
    message = "\x1f".join(parts).encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def verify_signature(key: bytes, signature: str, *parts: str) -> bool:
    return hmac.compare_digest(sign(key, *parts), signature)
