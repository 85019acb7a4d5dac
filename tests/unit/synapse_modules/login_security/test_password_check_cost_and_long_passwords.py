"""One bcrypt check per login attempt, and password + code for passwords of 72 bytes or more."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hearth.synapse_modules.login_security.decisions import Outcome
from tests.harness.login_guard import NOW_MS, Parts, make_parts

SHORT = "right-password-1"
# Byte lengths 72, 73 and 100 (UTF-8), ASCII and multibyte; none ends like a code.
LONG_PASSWORDS = [
    pytest.param("p" * 72, id="72-ascii"),
    pytest.param("p" * 73, id="73-ascii"),
    pytest.param("p" * 100, id="100-ascii"),
    pytest.param("é" * 36, id="72-two-byte"),
    pytest.param("x" + "€" * 24, id="73-three-byte"),
    pytest.param("ü" * 50, id="100-two-byte"),
]


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[Parts]:
    made = make_parts(tmp_path)
    yield made
    made.conn.close()


async def test_one_bcrypt_check_per_attempt_without_second_factor(parts: Parts) -> None:
    """Right or wrong, with or without digits at the end: one check each."""
    parts.add_user("@u:hs", SHORT)
    for typed, outcome in ((SHORT, Outcome.PASSWORD_OK), ("wrong", Outcome.PASSWORD_WRONG),
                           ("wrong123456", Outcome.PASSWORD_WRONG)):
        parts.checks.clear()
        assert (await parts.guard.check("@u:hs", typed, None, None)).outcome is outcome
        assert len(parts.checks) == 1, (typed, parts.checks)


async def test_one_bcrypt_check_per_attempt_with_second_factor(parts: Parts) -> None:
    """An enrolled user: password + code, password alone, wrong ones, the TOTP type."""
    parts.add_user("@e:hs", SHORT)
    code = (await parts.enrol("@e:hs")).at(NOW_MS / 1000)
    attempts: list[tuple[str, str | None, Outcome]] = [
        (SHORT + code, None, Outcome.SECOND_FACTOR_OK),
        (SHORT, None, Outcome.CODE_MISSING),
        ("wrong" + "123456", None, Outcome.PASSWORD_WRONG),
        ("wrong-password", None, Outcome.PASSWORD_WRONG),
        ("wrongk3mfa-q7zpx", None, Outcome.PASSWORD_WRONG),
        ("wrong", "123456", Outcome.PASSWORD_WRONG),
    ]
    for typed, separate, outcome in attempts:
        parts.checks.clear()
        result = await parts.guard.check("@e:hs", typed, separate, None)
        assert result.outcome is outcome, (typed, result)
        assert len(parts.checks) == 1, (typed, parts.checks)


@pytest.mark.parametrize("password", LONG_PASSWORDS)
async def test_long_password_with_appended_code_logs_in(parts: Parts, password: str) -> None:
    """The code after a 72+ byte password is split off before bcrypt would cut it away."""
    assert len(password.encode()) >= 72
    parts.add_user("@long:hs", password)
    app = await parts.enrol("@long:hs")
    wrong = "000000" if app.at(NOW_MS / 1000) != "000000" else "111111"
    refused = await parts.guard.check("@long:hs", password + wrong, None, None)
    assert refused.outcome is Outcome.CODE_WRONG
    accepted = await parts.guard.check("@long:hs", password + app.at(NOW_MS / 1000), None,
                                       None)
    assert (accepted.outcome, accepted.second_factor) == (Outcome.SECOND_FACTOR_OK, "totp")
    alone = await parts.guard.check("@long:hs", password, None, None)
    assert alone.outcome is Outcome.CODE_MISSING
    separate = await parts.guard.check("@long:hs", password, app.at(NOW_MS / 1000 + 30), None)
    assert separate.outcome is Outcome.SECOND_FACTOR_OK
