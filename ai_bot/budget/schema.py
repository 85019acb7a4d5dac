"""The ledger's tables, created and upgraded by numbered, idempotent migrations.

Amounts are integers of nano-dollars (1e-9 USD): one token of the cheapest model costs a
fraction of a micro-dollar, and floats summed over a month drift. Portable types only, so the
same statements run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from hearth.owned_tables import Schema

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

SCHEMA = Schema("ai_budget_schema_version", (
    (1, (
        _TOTALS,
        _RESERVATIONS,
        "CREATE INDEX IF NOT EXISTS ai_budget_reservations_state "
        "ON ai_budget_reservations (state, created_ms)",
    )),
))

