"""The persisted ``Ledger``: reserve before a model call, settle or release after it.

A reservation adds its amount to six running totals at once — the user's, the room's and the
bot's, for the current UTC day and month — inside one transaction that first locks those
rows, so concurrent calls (from any number of bot processes) can never together overspend a
limit. Settling swaps the held amount for the real cost; releasing removes it.

When the database is unreachable, ``reserve`` raises: the caller must refuse the call (fail
closed) rather than spend without a record.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from hearth.ai_bot.budget.db import Database, Txn, open_database
from hearth.ai_bot.budget.schema import SCHEMA
from hearth.ai_bot.budget.types import (
    BudgetRefusal,
    Ledger,
    Period,
    Reservation,
    Scope,
    SpendSummary,
)
from hearth.ai_bot.metrics import BUDGET_REFUSALS, MODEL_COST_USD

logger = logging.getLogger(__name__)

NANO = 1_000_000_000
BOT_SUBJECT = "bot"
_PERIODS: tuple[Period, ...] = ("day", "month")


def to_nano(usd: float) -> int:
    """Dollars as integer nano-dollars."""
    return round(usd * NANO)


def period_keys(now: datetime) -> dict[Period, str]:
    """The UTC day and month a moment falls in, as the keys of the totals table."""
    utc = now.astimezone(UTC)
    return {"day": utc.strftime("%Y-%m-%d"), "month": utc.strftime("%Y-%m")}


@dataclass(frozen=True, order=True)
class _Bucket:
    scope: Scope
    subject: str
    period: Period
    key: str


def _buckets(user_id: str, room_id: str, keys: Mapping[Period, str]) -> list[_Bucket]:
    """The six buckets a call counts against, in the order refusals are reported."""
    subjects: tuple[tuple[Scope, str], ...] = (
        ("user", user_id), ("room", room_id), ("bot", BOT_SUBJECT))
    return [_Bucket(scope, subject, period, keys[period])
            for scope, subject in subjects for period in _PERIODS]


_SELECT_SPENT = ("SELECT spent_nano FROM ai_budget_totals "
                 "WHERE scope = ? AND subject = ? AND period = ? AND period_key = ?")
_ADD_SPENT = ("UPDATE ai_budget_totals SET spent_nano = spent_nano + ? "
              "WHERE scope = ? AND subject = ? AND period = ? AND period_key = ?")


def _params(bucket: _Bucket) -> tuple[str, str, str, str]:
    return (bucket.scope, bucket.subject, bucket.period, bucket.key)


def _add(txn: Txn, buckets: list[_Bucket], delta: int) -> None:
    for bucket in sorted(buckets):  # one lock order everywhere: no deadlocks
        txn.execute(_ADD_SPENT, (delta, *_params(bucket)))


def _now_ms() -> int:
    return int(time.time() * 1000)


class SqlLedger:
    """``Ledger`` over SQLite or PostgreSQL (see db.py for the URL forms)."""

    def __init__(self, db: Database,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._db = db
        self._now = now

    @classmethod
    async def open(cls, url: str, *, workers: int = 4,
                   now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> SqlLedger:
        """Connect and migrate the schema."""
        db = await open_database(url, workers)
        try:
            await db.migrate(SCHEMA)
        except BaseException:
            await db.close()
            raise
        return cls(db, now)

    @property
    def database(self) -> Database:
        """The ledger's database (the bot keeps its prompt → answer links there too)."""
        return self._db

    async def close(self) -> None:
        """Close the connections."""
        await self._db.close()

    async def reserve(
        self, user_id: str, room_id: str, model: str, amount_usd: float,
        user_limits: dict[Period, float | None], room_limits: dict[Period, float | None],
        bot_limits: dict[Period, float | None],
    ) -> Reservation | BudgetRefusal:
        """Hold ``amount_usd`` against all six budgets, or refuse naming the first that is short.

        A limit of None means no limit; the spend is still recorded.
        """
        if amount_usd < 0:
            raise ValueError("a reservation cannot be negative")
        amount = to_nano(amount_usd)
        keys = period_keys(self._now())
        buckets = _buckets(user_id, room_id, keys)
        limits: dict[tuple[Scope, Period], float | None] = {}
        by_scope: tuple[tuple[Scope, dict[Period, float | None]], ...] = (
            ("user", user_limits), ("room", room_limits), ("bot", bot_limits))
        for scope, given in by_scope:
            for period in _PERIODS:
                limits[(scope, period)] = given.get(period)
        reservation = Reservation(uuid.uuid4().hex, user_id, room_id, model, amount / NANO)

        def txn_fn(txn: Txn) -> Reservation | BudgetRefusal:
            spent: dict[_Bucket, int] = {}
            for bucket in sorted(buckets):
                txn.execute(
                    "INSERT INTO ai_budget_totals (scope, subject, period, period_key, "
                    "spent_nano) VALUES (?, ?, ?, ?, 0) ON CONFLICT DO NOTHING",
                    _params(bucket))
                row = txn.one(_SELECT_SPENT, _params(bucket), for_update=True)
                spent[bucket] = int(row[0]) if row else 0
            for bucket in buckets:
                limit = limits[(bucket.scope, bucket.period)]
                if limit is not None and spent[bucket] + amount > to_nano(limit):
                    return BudgetRefusal(bucket.scope, bucket.period, limit,
                                         (to_nano(limit) - spent[bucket]) / NANO)
            _add(txn, buckets, amount)
            txn.execute(
                "INSERT INTO ai_budget_reservations (id, user_id, room_id, model, day_key, "
                "month_key, held_nano, state, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 'held', ?)",
                (reservation.id, user_id, room_id, model, keys["day"], keys["month"], amount,
                 _now_ms()))
            return reservation

        result = await self._db.run(txn_fn)
        if isinstance(result, BudgetRefusal):
            BUDGET_REFUSALS.labels(result.scope, result.period).inc()
        return result

    async def settle(self, reservation: Reservation, actual_usd: float) -> None:
        """Replace the held amount with the real cost; a second settle is ignored.

        ``reservation.model`` is recorded as the model that answered: pass
        ``dataclasses.replace(reservation, model=usage.model)`` when a fallback did.
        """
        actual = to_nano(max(actual_usd, 0.0))
        if await self._close(reservation, "settled", actual):
            MODEL_COST_USD.labels(reservation.model).inc(actual / NANO)

    async def release(self, reservation: Reservation) -> None:
        """Drop a reservation whose call never happened; a second release is ignored."""
        await self._close(reservation, "released", 0)

    async def _close(self, reservation: Reservation, state: str, actual: int) -> bool:
        def txn_fn(txn: Txn) -> bool:
            return _close_txn(txn, reservation.id, reservation.model, state, actual)

        closed = await self._db.run(txn_fn)
        if not closed:
            logger.warning("Reservation %s was not held (already settled or released?)",
                           reservation.id)
        return closed

    async def release_stale(self, older_than_s: float) -> int:
        """Release reservations held longer than any call can take (e.g. after a crash)."""
        cutoff = _now_ms() - int(older_than_s * 1000)

        def find(txn: Txn) -> list[tuple[str, str]]:
            return [(str(rid), str(model)) for rid, model in txn.all(
                "SELECT id, model FROM ai_budget_reservations "
                "WHERE state = 'held' AND created_ms < ?", (cutoff,))]

        released = 0
        for rid, model in await self._db.run(find):
            # One transaction each: the same lock order as settle, so no deadlock with it.
            released += await self._db.run(
                functools.partial(_close_txn, reservation_id=rid, model=model,
                                  state="released", actual=0))
        return released

    async def summary(self, user_id: str, room_id: str, *,
                      user_limits: Mapping[Period, float | None] | None = None) -> SpendSummary:
        """Spend this UTC day and month (held reservations included) for ``!ai usage``.

        The ledger does not know the policy: pass ``user_limits`` to have them shown.
        """
        keys = period_keys(self._now())
        wanted = [b for b in _buckets(user_id, room_id, keys) if b.scope != "bot"]

        def txn_fn(txn: Txn) -> dict[_Bucket, int]:
            found: dict[_Bucket, int] = {}
            for bucket in wanted:
                row = txn.one(_SELECT_SPENT, _params(bucket))
                found[bucket] = int(row[0]) if row else 0
            return found

        spent = await self._db.run(txn_fn)
        by_key = {(b.scope, b.period): value / NANO for b, value in spent.items()}
        limits = user_limits or {}
        return SpendSummary(
            user_day_usd=by_key[("user", "day")], user_month_usd=by_key[("user", "month")],
            room_day_usd=by_key[("room", "day")], room_month_usd=by_key[("room", "month")],
            user_day_limit_usd=limits.get("day"), user_month_limit_usd=limits.get("month"),
        )


def _close_txn(txn: Txn, reservation_id: str, model: str, state: str, actual: int) -> bool:
    """Settle or release one held reservation inside a transaction; False if not held."""
    row = txn.one("SELECT user_id, room_id, day_key, month_key, held_nano, state "
                  "FROM ai_budget_reservations WHERE id = ?", (reservation_id,), for_update=True)
    if row is None or row[5] != "held":
        return False
    user_id, room_id, day_key, month_key, held = row[0], row[1], row[2], row[3], int(row[4])
    _add(txn, _buckets(user_id, room_id, {"day": day_key, "month": month_key}), actual - held)
    txn.execute("UPDATE ai_budget_reservations SET state = ?, actual_nano = ?, model = ?, "
                "closed_ms = ? WHERE id = ?",
                (state, actual if state == "settled" else None, model, _now_ms(),
                 reservation_id))
    return True


if TYPE_CHECKING:
    def _is_a_ledger(ledger: SqlLedger) -> Ledger:  # mypy checks SqlLedger meets the contract
        return ledger
