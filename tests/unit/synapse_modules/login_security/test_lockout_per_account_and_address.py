"""Locks per (account, address), a higher account-wide lock, and UIA's own-identity rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hearth.synapse_modules.login_security.credentials import ACCEPTED, REFUSED, WRONG
from hearth.synapse_modules.login_security.decisions import Outcome, Verdict
from tests.harness.login_guard import Parts, make_parts

PASSWORD = "right-password-1"
ATTACKER, OWNER = "198.51.100.9", "203.0.113.4"


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[Parts]:
    made = make_parts(tmp_path)  # 5 failures per address, so 50 over every address
    made.add_user("@v:hs", PASSWORD)
    made.add_user("@other:hs", PASSWORD)
    yield made
    made.conn.close()


async def fail(parts: Parts, address: str, times: int, user: str = "@v:hs") -> None:
    for _ in range(times):
        assert (await parts.guard.check(user, "wrong", None, address)).outcome \
            is Outcome.PASSWORD_WRONG


async def test_a_stranger_locks_only_their_own_address_out(parts: Parts) -> None:
    """Five failures from one address lock that address out; the owner elsewhere gets in."""
    await fail(parts, ATTACKER, 5)
    refusal = await parts.guard.refusal_before_check("@v:hs", ATTACKER)
    assert refusal is not None and refusal.errcode == "M_USER_LOCKED"
    assert await parts.guard.refusal_before_check("@v:hs", OWNER) is None
    decision = await parts.guard.decide("@v:hs", Verdict("@v:hs", Outcome.PASSWORD_OK), OWNER)
    assert decision.allowed
    status = await parts.guard.admin_status("@v:hs")
    assert status["locked_addresses"] == [ATTACKER] and status["locked_until_ms"]
    unlocked = await parts.guard.unlock_account("@v:hs")
    assert unlocked["was_locked"] and \
        await parts.guard.refusal_before_check("@v:hs", ATTACKER) is None


async def test_account_wide_lock_yields_to_a_second_factor(parts: Parts) -> None:
    """50 failures over 10 addresses lock everywhere, a valid code still gets in, for less."""
    for n in range(10):
        await fail(parts, f"192.0.2.{n + 1}", 5)
    assert await parts.guard.refusal_before_check("@v:hs", OWNER) is not None
    assert await parts.guard.refusal_before_check(
        "@v:hs", OWNER, second_factor_possible=True) is None
    plain = await parts.guard.decide("@v:hs", Verdict("@v:hs", Outcome.PASSWORD_OK), OWNER)
    assert plain.refusal is not None and plain.refusal.errcode == "M_USER_LOCKED"
    assert plain.refusal.fields["retry_after_ms"] == 5 * 60_000  # a third of 15 minutes
    coded = await parts.guard.decide("@v:hs", Verdict("@v:hs", Outcome.SECOND_FACTOR_OK,
                                                      second_factor="totp"), OWNER)
    assert coded.allowed
    parts.clock[0] += 5 * 60_000
    assert await parts.guard.refusal_before_check("@v:hs", OWNER) is None


async def test_uia_accepts_only_the_requesters_own_identity(parts: Parts) -> None:
    """Another identity is refused unchecked (and counted); the own one is checked."""
    for requester in ("@other:hs", None):
        parts.checks.clear()
        found = await parts.guard.check_reauthentication(requester, "@V:hs", PASSWORD, None,
                                                         ATTACKER)
        assert found.answer == REFUSED and parts.checks == []
    own = await parts.guard.check_reauthentication("@v:hs", "@V:hs", PASSWORD, None, OWNER)
    assert (own.answer, own.user_id) == (ACCEPTED, "@v:hs")
    wrong = await parts.guard.check_reauthentication("@v:hs", "@v:hs", "nope", None, OWNER)
    assert wrong.answer == WRONG
    status = await parts.guard.admin_status("@v:hs")
    assert status["failed_attempts"] == 3  # two foreign attempts and the wrong password


async def test_uia_refuses_a_locked_account_without_checking(parts: Parts) -> None:
    """Locked out from this address: refused before the password; from another: checked."""
    await fail(parts, ATTACKER, 5)
    parts.checks.clear()
    locked = await parts.guard.check_reauthentication("@v:hs", "@v:hs", PASSWORD, None,
                                                      ATTACKER)
    assert locked.answer == REFUSED and parts.checks == []
    elsewhere = await parts.guard.check_reauthentication("@v:hs", "@v:hs", PASSWORD, None,
                                                         OWNER)
    assert elsewhere.answer == ACCEPTED
