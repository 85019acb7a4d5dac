"""What login input must look like before it is checked at all (pure, no Synapse).

A password arrives as JSON text, where ``"\\ud800"`` decodes to a lone surrogate: not a
character, so it cannot be encoded, hashed or compared, and Synapse's own password check
raises on it (a 500). Such a password can never be right, so it is refused up front with
a message naming the field. A NUL or a very long password is just text that is not the
password: bcrypt sees its first 72 bytes and it fails like any wrong guess.

User names are refused when no account can have them (control and format characters,
surrogates, more than 255 characters): PostgreSQL rejects NUL in text, and the message
tells a person what is wrong instead of a server error.
"""

from __future__ import annotations

import unicodedata

from hearth.text_checks import json_type

MAX_USER_NAME_CHARS = 255  # the Matrix limit on a whole user ID
_UNUSABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def is_unicode_text(text: str) -> bool:
    """Whether ``text`` is made of characters only (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def password_problem(value: object, field: str = "password") -> str | None:
    """Why ``value`` cannot be checked as a password (a message naming ``field``), or None."""
    if not isinstance(value, str):
        got = json_type(value, array="a list")
        return f"Invalid '{field}': got {got}, expected the password as a string"
    if not is_unicode_text(value):
        return (f"Invalid '{field}': it contains a lone surrogate (\\ud800-\\udfff), which "
                "is not a character; send the password as ordinary Unicode text")
    return None


def user_name_problem(text: str) -> str | None:
    """Why no account can have the user name or ID ``text``, or None when one might."""
    if len(text) > MAX_USER_NAME_CHARS:
        return f"That user name is too long (more than {MAX_USER_NAME_CHARS} characters)."
    if any(unicodedata.category(char) in _UNUSABLE_CATEGORIES for char in text):
        return ("That user name contains control or invisible characters; type the user "
                "name as letters, digits and punctuation.")
    return None
