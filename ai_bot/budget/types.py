"""The contract of the budget ledger as the Matrix side uses it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Scope = Literal["user", "room", "bot"]
Period = Literal["day", "month"]


@dataclass(frozen=True)
class Reservation:
    """An amount held against every budget that applies, until settled or released."""

    id: str
    user_id: str
    room_id: str
    model: str
    amount_usd: float


@dataclass(frozen=True)
class BudgetRefusal:
    """Why a call may not go ahead: which budget, its limit and what is left."""

    scope: Scope
    period: Period
    limit_usd: float
    remaining_usd: float

    def message(self) -> str:
        """A sentence for the user."""
        who = {"user": "your", "room": "this room's", "bot": "the bot's"}[self.scope]
        period = {"day": "daily", "month": "monthly"}[self.period]
        return (
            f"That request would exceed {who} {period} AI budget "
            f"(${self.limit_usd:.2f}, ${max(self.remaining_usd, 0):.4f} left)."
        )


@dataclass(frozen=True)
class SpendSummary:
    """What ``!ai usage`` shows."""

    user_day_usd: float
    user_month_usd: float
    room_day_usd: float
    room_month_usd: float
    user_day_limit_usd: float | None
    user_month_limit_usd: float | None


class Ledger(Protocol):
    """Persisted budgets (SQLite or PostgreSQL)."""

    async def reserve(
        self, user_id: str, room_id: str, model: str, amount_usd: float,
        user_limits: dict[Period, float | None], room_limits: dict[Period, float | None],
        bot_limits: dict[Period, float | None],
    ) -> Reservation | BudgetRefusal:
        """Hold ``amount_usd`` against every applicable budget, atomically, or refuse."""
        ...

    async def settle(self, reservation: Reservation, actual_usd: float) -> None:
        """Replace the held amount with the real cost."""
        ...

    async def release(self, reservation: Reservation) -> None:
        """Drop a reservation whose call never happened."""
        ...

    async def summary(self, user_id: str, room_id: str) -> SpendSummary:
        """Spend so far for ``!ai usage``."""
        ...
