"""Lockout decisions: the 5th failure in the window locks; locks run out; windows reset."""

from __future__ import annotations

from hearth.synapse_modules.login_security.lockout import (
    Counter,
    LockoutRule,
    after_failure,
    just_locked,
    locked_until,
)

RULE = LockoutRule(limit=5, window_ms=900_000, lock_ms=600_000)


def fail(times: int, start: Counter | None = None, at: int = 1_000, step: int = 1_000
         ) -> Counter | None:
    counter = start
    for i in range(times):
        counter = after_failure(counter, at + i * step, RULE)
    return counter


def test_fifth_failure_locks_for_the_duration() -> None:
    """Four failures leave it open; the fifth locks until now + lock_ms."""
    four = fail(4)
    assert four is not None and four.failures == 4 and locked_until(four, 5_000) is None
    five = after_failure(four, 5_000, RULE)
    assert locked_until(five, 5_000) == 605_000
    assert just_locked(four, five, 5_000)
    assert locked_until(five, 605_000) is None  # the lock has run out


def test_failures_while_locked_do_not_extend_the_lock() -> None:
    """A failure during a lock is counted but the end stays put."""
    five = fail(5)
    assert five is not None
    more = after_failure(five, 10_000, RULE)
    assert (more.failures, more.locked_until_ms) == (6, five.locked_until_ms)
    assert not just_locked(five, more, 10_000)


def test_window_and_expired_lock_start_afresh() -> None:
    """Failures older than the window are forgotten; after a lock, counting restarts at 1."""
    four = fail(4)
    late = after_failure(four, 1_000 + RULE.window_ms, RULE)
    assert (late.failures, late.locked_until_ms) == (1, None)
    locked = fail(5)
    assert locked is not None and locked.locked_until_ms is not None
    after = after_failure(locked, locked.locked_until_ms + 1, RULE)
    assert (after.failures, after.locked_until_ms) == (1, None)


def test_limit_of_one_locks_at_once() -> None:
    """A limit of 1 locks on the first failure."""
    counter = after_failure(None, 0, LockoutRule(1, 1000, 50))
    assert locked_until(counter, 10) == 50
