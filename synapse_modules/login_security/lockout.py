"""Failure counting and lockout, for an account or a client address (pure, no Synapse).

A counter holds the failures inside the current window. The failure that reaches the limit
locks the key until ``now + lock``; a lock that has run out, or a window that has passed,
starts a fresh count. A successful login deletes the account's counter (not the address's:
a client with one valid account must not be able to wash its address clean between
guesses at other accounts). An admin unlock deletes either.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Counter:
    """Stored state of one key: failures in the window, when it began, any lock."""

    failures: int
    window_start_ms: int
    locked_until_ms: int | None = None

    def locked_at(self, now_ms: int) -> bool:
        """Whether the key is locked at ``now_ms``."""
        return self.locked_until_ms is not None and now_ms < self.locked_until_ms


@dataclass(frozen=True)
class LockoutRule:
    """``limit`` failures within ``window_ms`` lock the key for ``lock_ms``."""

    limit: int
    window_ms: int
    lock_ms: int


def locked_until(counter: Counter | None, now_ms: int) -> int | None:
    """The end of the lock in force at ``now_ms``, or None when there is none."""
    if counter is None or not counter.locked_at(now_ms):
        return None
    return counter.locked_until_ms


def after_failure(counter: Counter | None, now_ms: int, rule: LockoutRule) -> Counter:
    """The counter after one more failure at ``now_ms``.

    A failure while locked (possible only where the lock is not enforced before the
    password is checked, e.g. re-authentication of a logged-in session) is counted but
    does not extend the lock.
    """
    if counter is not None and counter.locked_at(now_ms):
        return Counter(counter.failures + 1, counter.window_start_ms, counter.locked_until_ms)
    fresh = (
        counter is None
        or counter.locked_until_ms is not None  # a lock that has run out: start again
        or now_ms - counter.window_start_ms >= rule.window_ms
    )
    if fresh:
        failures, start = 1, now_ms
    else:
        assert counter is not None
        failures, start = counter.failures + 1, counter.window_start_ms
    until = now_ms + rule.lock_ms if failures >= rule.limit else None
    return Counter(failures, start, until)


def just_locked(before: Counter | None, after: Counter, now_ms: int) -> bool:
    """Whether the failure that turned ``before`` into ``after`` started a lock."""
    return after.locked_at(now_ms) and locked_until(before, now_ms) is None
