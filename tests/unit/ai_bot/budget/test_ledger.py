"""The budget ledger on SQLite and on PostgreSQL: reserve, refuse, settle, release, summary."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from hearth.ai_bot.budget.db import open_database
from hearth.ai_bot.budget.ledger import SqlLedger
from hearth.ai_bot.budget.types import BudgetRefusal, Period, Reservation
from tests.harness.postgres import database_url

USER, ROOM, MODEL = "@alice:localhost", "!room:localhost", "gpt-4o"
NONE: dict[Period, float | None] = {"day": None, "month": None}


class Clock:
    """A settable UTC 'now' for the ledger."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 31, 23, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh ledger database on each engine."""
    with database_url(request.param, tmp_path / "ledger.db", "hearth_ledger") as url:
        yield url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def ledger(ledger_url: str, clock: Clock) -> AsyncIterator[SqlLedger]:
    opened = await SqlLedger.open(ledger_url, workers=4, now=clock)
    yield opened
    await opened.close()


async def _reserve(ledger: SqlLedger, amount: float, *, user: dict[Period, float | None] = NONE,
                   room: dict[Period, float | None] = NONE,
                   bot: dict[Period, float | None] = NONE, user_id: str = USER,
                   room_id: str = ROOM) -> Reservation | BudgetRefusal:
    return await ledger.reserve(user_id, room_id, MODEL, amount, user, room, bot)


async def test_reservation_is_held_and_shown_in_the_summary(ledger: SqlLedger) -> None:
    """A reservation counts against the user's and the room's day and month at once."""
    held = await _reserve(ledger, 0.25)
    assert isinstance(held, Reservation) and held.amount_usd == 0.25
    summary = await ledger.summary(USER, ROOM, user_limits={"day": 1.0, "month": 10.0})
    assert (summary.user_day_usd, summary.user_month_usd) == (0.25, 0.25)
    assert (summary.room_day_usd, summary.room_month_usd) == (0.25, 0.25)
    assert (summary.user_day_limit_usd, summary.user_month_limit_usd) == (1.0, 10.0)
    other = await ledger.summary("@bob:localhost", ROOM)
    assert other.user_day_usd == 0 and other.room_day_usd == 0.25
    assert other.user_day_limit_usd is None


@pytest.mark.parametrize(
    ("scope", "period"),
    [("user", "day"), ("user", "month"), ("room", "day"), ("room", "month"),
     ("bot", "day"), ("bot", "month")],
)
async def test_each_budget_refuses_with_the_right_remaining_figure(
        ledger: SqlLedger, scope: str, period: Period) -> None:
    """With $0.70 spent against a $1.00 limit, $0.40 is refused and $0.30 is left."""
    spent = await _reserve(ledger, 0.70)
    assert isinstance(spent, Reservation)
    limits: dict[Period, float | None] = {**NONE, period: 1.0}
    kwargs = {scope: limits}
    refusal = await _reserve(ledger, 0.40, **kwargs)  # type: ignore[arg-type]
    assert refusal == BudgetRefusal(scope, period, 1.0, pytest.approx(0.30))  # type: ignore[arg-type]
    assert isinstance(await _reserve(ledger, 0.30, **kwargs), Reservation)  # type: ignore[arg-type]
    assert isinstance(refusal, BudgetRefusal)
    assert "$1.00" in refusal.message() and "$0.3000 left" in refusal.message()
    adjective = {"day": "daily", "month": "monthly"}[period]
    assert f" {adjective} AI budget " in refusal.message()


async def test_refusal_counts_a_metric_and_holds_nothing(ledger: SqlLedger) -> None:
    """A refused call leaves the totals untouched and is counted by scope and period."""
    labels = {"scope": "user", "period": "day"}
    before = REGISTRY.get_sample_value("hearth_ai_budget_refusals_total", labels) or 0
    assert isinstance(await _reserve(ledger, 2.0, user={"day": 1.0, "month": None}),
                      BudgetRefusal)
    assert REGISTRY.get_sample_value("hearth_ai_budget_refusals_total", labels) == before + 1
    assert (await ledger.summary(USER, ROOM)).user_day_usd == 0


async def test_settlement_replaces_the_estimate(ledger: SqlLedger) -> None:
    """Settling a $0.50 hold at $0.02 leaves $0.02 spent, and frees the rest of the budget."""
    held = await _reserve(ledger, 0.50)
    assert isinstance(held, Reservation)
    cost_before = REGISTRY.get_sample_value("hearth_ai_cost_usd_total", {"model": MODEL}) or 0
    await ledger.settle(held, 0.02)
    assert (await ledger.summary(USER, ROOM)).user_day_usd == pytest.approx(0.02)
    assert REGISTRY.get_sample_value("hearth_ai_cost_usd_total", {"model": MODEL}) == (
        pytest.approx(cost_before + 0.02))
    await ledger.settle(held, 5.0)  # a second settle is ignored
    assert (await ledger.summary(USER, ROOM)).user_day_usd == pytest.approx(0.02)
    assert isinstance(await _reserve(ledger, 0.98, user={"day": 1.0, "month": None}),
                      Reservation)


async def test_settlement_above_the_estimate_is_recorded_in_full(ledger: SqlLedger) -> None:
    """Real usage can exceed the hold (estimated prompts); the record tells the truth."""
    held = await _reserve(ledger, 0.10)
    assert isinstance(held, Reservation)
    await ledger.settle(dataclasses.replace(held, model="gpt-4o-mini"), 0.15)
    assert (await ledger.summary(USER, ROOM)).user_month_usd == pytest.approx(0.15)


async def test_release_returns_the_whole_hold(ledger: SqlLedger) -> None:
    """A call that never happened costs nothing; releasing twice changes nothing."""
    held = await _reserve(ledger, 0.40)
    assert isinstance(held, Reservation)
    await ledger.release(held)
    await ledger.release(held)
    await ledger.settle(held, 1.0)  # neither does settling a released one
    summary = await ledger.summary(USER, ROOM)
    assert summary.user_day_usd == 0 and summary.room_month_usd == 0


async def test_concurrent_reservations_cannot_overspend(ledger: SqlLedger) -> None:
    """20 concurrent $0.10 reserves against $1.00: exactly 10 succeed, the total is $1.00."""
    results = await asyncio.gather(*(
        _reserve(ledger, 0.10, bot={"day": 1.0, "month": None},
                 user_id=f"@u{i}:localhost", room_id=f"!r{i % 3}:localhost")
        for i in range(20)))
    held = [r for r in results if isinstance(r, Reservation)]
    refused = [r for r in results if isinstance(r, BudgetRefusal)]
    assert len(held) == 10 and len(refused) == 10
    assert all(r.scope == "bot" and r.remaining_usd == pytest.approx(0) for r in refused)


async def test_two_ledgers_on_one_database_share_the_limits(ledger_url: str,
                                                            clock: Clock) -> None:
    """Two bot processes (two ledgers) racing for one user's budget still stop at the limit."""
    first = await SqlLedger.open(ledger_url, now=clock)
    second = await SqlLedger.open(ledger_url, now=clock)
    try:
        limits: dict[Period, float | None] = {"day": 0.5, "month": None}
        results = await asyncio.gather(*(
            (first if i % 2 else second).reserve(USER, ROOM, MODEL, 0.1, limits, NONE, NONE)
            for i in range(12)))
        assert sum(isinstance(r, Reservation) for r in results) == 5
    finally:
        await first.close()
        await second.close()


async def test_periods_are_utc_days_and_months(ledger: SqlLedger, clock: Clock) -> None:
    """A new UTC day starts a fresh day budget; the month goes on; a settle after midnight
    lands in the day the call was charged to."""
    limits: dict[Period, float | None] = {"day": 1.0, "month": 1.5}
    late = await _reserve(ledger, 0.8, user=limits)
    assert isinstance(late, Reservation)
    clock.now += timedelta(minutes=20)  # 2025-03-31 23:50
    assert isinstance(await _reserve(ledger, 0.3, user=limits), BudgetRefusal)
    clock.now += timedelta(minutes=20)  # 2025-04-01 00:10: new day and new month
    await ledger.settle(late, 0.5)
    fresh = await _reserve(ledger, 0.9, user=limits)
    assert isinstance(fresh, Reservation)
    summary = await ledger.summary(USER, ROOM)
    assert summary.user_day_usd == pytest.approx(0.9)
    assert summary.user_month_usd == pytest.approx(0.9)
    clock.now = datetime(2025, 4, 15, 12, tzinfo=UTC)
    assert await _reserve(ledger, 0.7, user=limits) == BudgetRefusal(
        "user", "month", 1.5, pytest.approx(0.6))  # type: ignore[arg-type]


async def test_stale_reservations_are_released(ledger: SqlLedger) -> None:
    """Holds left by a crashed process are freed by release_stale; fresh ones stay."""
    held = await _reserve(ledger, 0.3)
    assert isinstance(held, Reservation)
    assert await ledger.release_stale(older_than_s=3600) == 0
    await asyncio.sleep(0.02)
    assert await ledger.release_stale(older_than_s=0.01) == 1
    assert (await ledger.summary(USER, ROOM)).user_day_usd == 0


async def test_migrations_are_idempotent(ledger_url: str) -> None:
    """Opening the same database again runs no migration twice."""
    for _ in range(2):
        opened = await SqlLedger.open(ledger_url)
        await opened.close()
    db = await open_database(ledger_url)
    try:
        versions = await db.run(lambda txn: txn.all(
            "SELECT version FROM ai_budget_schema_version ORDER BY version"))
    finally:
        await db.close()
    assert versions == [(1,)]


async def test_bad_urls_are_refused() -> None:
    """Only sqlite:///FILE and postgresql:// URLs are accepted, with a message saying so."""
    with pytest.raises(ValueError, match="expected sqlite:///PATH or postgresql://"):
        await open_database("mysql://root@localhost/x")
    with pytest.raises(ValueError, match="needs a database file"):
        await open_database("sqlite:///:memory:")


async def test_negative_amounts_are_a_bug(ledger: SqlLedger) -> None:
    """Reserving a negative amount would mint budget: refused loudly."""
    with pytest.raises(ValueError):
        await _reserve(ledger, -0.01)
