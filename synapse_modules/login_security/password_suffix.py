"""Reading a second factor typed after the password into a stock client's password field (pure).

The password itself is checked against Synapse's stored hash by
``synapse_compat.password_hash.check_password``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hearth.synapse_modules.login_security.totp import RECOVERY_SUFFIX, TOTP_SUFFIX


@dataclass(frozen=True)
class SuffixGuess:
    """One way to read "password followed by a second factor" typed into a password field."""

    password: str
    code: str
    kind: str  # "totp" or "recovery"


def suffix_guesses(typed: str) -> list[SuffixGuess]:
    """The readings of ``typed`` as password + code, most likely first.

    Stock clients have only a password field, so an enrolled user appends the 6-digit code
    (``hunter2123456``) or a recovery code with its dash (``hunter2k3mfa-q7zpx``). Only
    ASCII ``0-9`` make a code: other scripts' digits are read as part of the password, so
    such a guess fails (and counts) as a wrong password.
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
