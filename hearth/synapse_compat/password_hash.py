"""Checking a password against the hash Synapse stored, the way Synapse checks it (pure).

Mirrors ``AuthHandler.validate_hash`` (``synapse/handlers/auth.py``): the password is
NFKC-normalised, the configured pepper (``password_config.pepper``) appended, the bytes cut
to bcrypt's 72, and checked with bcrypt. A NULL or malformed hash never matches. bcrypt is
slow on purpose (about a quarter of a second at Synapse's 12 rounds): call this from a thread.
"""

from __future__ import annotations

import unicodedata

import bcrypt

BCRYPT_MAX_BYTES = 72


def check_password(password: str, stored_hash: str | None, pepper: str = "") -> bool:
    """Whether ``password`` matches Synapse's ``users.password_hash``."""
    if not stored_hash:
        return False
    candidate = (unicodedata.normalize("NFKC", password).encode("utf-8")
                 + pepper.encode("utf-8"))[:BCRYPT_MAX_BYTES]
    try:
        return bool(bcrypt.checkpw(candidate, stored_hash.encode("ascii")))
    except (ValueError, UnicodeEncodeError):
        return False
