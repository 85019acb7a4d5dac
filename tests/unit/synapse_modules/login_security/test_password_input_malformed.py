"""Which password and user-name inputs can be checked at all, and which are refused up front."""

from __future__ import annotations

import bcrypt
import pytest

from hearth.synapse_compat.password_hash import check_password
from hearth.synapse_modules.login_security.inputs import password_problem, user_name_problem

HASH = bcrypt.hashpw(b"another-password-1", bcrypt.gensalt(4)).decode("ascii")


@pytest.mark.parametrize("value", [
    pytest.param("\ud800", id="lone-high-surrogate"),
    pytest.param("pass\udc80word", id="lone-low-surrogate"),
    pytest.param("truncated-pair\ud83d", id="half-an-emoji"),
    pytest.param(123456, id="number"),
    pytest.param(None, id="null"),
    pytest.param(True, id="boolean"),
    pytest.param(["p"], id="list"),
    pytest.param({"p": 1}, id="object"),
])
def test_password_that_cannot_be_checked_is_named(value: object) -> None:
    """password_problem names what is wrong (a person can act on the message)."""
    problem = password_problem(value)
    assert problem is not None and "'password'" in problem


@pytest.mark.parametrize("value", [
    pytest.param("correct-horse-battery-staple-42", id="plain"),
    pytest.param("pass\x00word", id="nul"),
    pytest.param("x" * 100_000, id="very-long"),
    pytest.param("pässwörd-😀", id="non-ascii"),
    pytest.param("", id="empty"),
])
def test_password_that_can_be_checked_passes(value: str) -> None:
    """Checkable passwords pass, and checking them never raises (bcrypt sees 72 bytes)."""
    assert password_problem(value) is None
    assert check_password(value, HASH) is False


@pytest.mark.parametrize("value", [
    pytest.param("ali\x00ce", id="nul"),
    pytest.param("alice\n", id="newline"),
    pytest.param("ali\ud800ce", id="lone-surrogate"),
    pytest.param("a" * 300, id="too-long"),
    pytest.param("alice\u202e", id="bidi-override"),
])
def test_user_name_that_cannot_be_looked_up_is_named(value: str) -> None:
    """user_name_problem refuses names no account can have (PostgreSQL rejects NUL)."""
    assert user_name_problem(value) is not None


@pytest.mark.parametrize("value", ["alice", "@alice:hs.example", "Ålice", "a" * 200])
def test_ordinary_user_name_passes(value: str) -> None:
    assert user_name_problem(value) is None
