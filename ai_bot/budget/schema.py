"""The ledger's tables, created and upgraded by numbered, idempotent migrations.

Amounts are integers of nano-dollars (1e-9 USD): one token of the cheapest model costs a
fraction of a micro-dollar, and floats summed over a month drift. Portable types only, so the
same statements run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from hearth.ai_bot.budget.db import Txn

# Running totals per budget bucket, held reservations included.
_TOTALS = """
CREATE TABLE IF NOT EXISTS ai_budget_totals (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    period TEXT NOT NULL,
    period_key TEXT NOT NULL,
    spent_nano BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, subject, period, period_key)
)"""

# One row per model call: held until settled (actual cost) or released (no call happened).
# The period keys are those of the moment of reservation, so a call that straddles midnight
# is settled in the day it was charged to.
_RESERVATIONS = """
CREATE TABLE IF NOT EXISTS ai_budget_reservations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    model TEXT NOT NULL,
    day_key TEXT NOT NULL,
    month_key TEXT NOT NULL,
    held_nano BIGINT NOT NULL,
    actual_nano BIGINT,
    state TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    closed_ms BIGINT
)"""

MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, (
        _TOTALS,
        _RESERVATIONS,
        "CREATE INDEX IF NOT EXISTS ai_budget_reservations_state "
        "ON ai_budget_reservations (state, created_ms)",
    )),
)

# Any constant unique to this schema: serialises migrations of processes starting together.
_PG_LOCK = 0x68656172  # "hear"


def migrate(txn: Txn) -> int:
    """Bring the schema to the latest version; safe to run on every start, concurrently."""
    if txn.dialect == "postgres":
        txn.execute("SELECT pg_advisory_xact_lock(?)", (_PG_LOCK,))
    txn.execute("CREATE TABLE IF NOT EXISTS ai_budget_schema_version (version INTEGER NOT NULL)")
    row = txn.one("SELECT MAX(version) FROM ai_budget_schema_version")
    current = int(row[0]) if row and row[0] is not None else 0
    for version, statements in MIGRATIONS:
        if version <= current:
            continue
        for statement in statements:
            txn.execute(statement)
        txn.execute("INSERT INTO ai_budget_schema_version (version) VALUES (?)", (version,))
        current = version
    return current
