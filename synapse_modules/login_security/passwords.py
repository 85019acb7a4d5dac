"""Checking a password against Synapse's stored hash, the way Synapse does (pure).

Mirrors ``AuthHandler.validate_hash`` of Synapse 1.163: the password is NFKC-normalised,
the configured pepper (``password_config.pepper``) appended, the bytes cut to bcrypt's 72,
and checked with bcrypt. A NULL or malformed hash never matches. bcrypt is slow on purpose
(about a quarter of a second at Synapse's 12 rounds): call this from a thread.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import bcrypt

from hearth.synapse_modules.login_security.totp import RECOVERY_SUFFIX, TOTP_SUFFIX

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


@dataclass(frozen=True)
class SuffixGuess:
    """One way to read "password followed by a second factor" typed into a password field."""

    password: str
    code: str
    kind: str  # "totp" or "recovery"


def suffix_guesses(typed: str) -> list[SuffixGuess]:
    """The readings of ``typed`` as password + code, most likely first.

    Stock clients have only a password field, so an enrolled user appends the 6-digit code
    (``hunter2123456``) or a recovery code with its dash (``hunter2k3mfa-q7zpx``).
    """
    guesses: list[SuffixGuess] = []
    totp = TOTP_SUFFIX.match(typed)
    if totp:
        guesses.append(SuffixGuess(totp.group("password"), totp.group("code"), "totp"))
    recovery = RECOVERY_SUFFIX.match(typed)
    if recovery:
        guesses.append(SuffixGuess(recovery.group("password"), recovery.group("code"),
                                   "recovery"))
    return guesses
