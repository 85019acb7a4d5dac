"""Role assignments in the main database (SQLite or PostgreSQL), in tables we own.

Schema ``hearth_policy_*`` with its own version table and numbered, idempotent migrations,
run only by the process that runs background tasks. Every write bumps a version counter in
the same transaction; every process polls that counter to drop its cached roles, which is
how a change reaches all processes within the poll interval.

SQL is portable (``?`` placeholders, which Synapse converts for PostgreSQL; TEXT/BIGINT;
``INSERT ... ON CONFLICT``, supported by SQLite >= 3.24 and PostgreSQL >= 9.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hearth.owned_tables import Cursor, ModuleTables, Runner, Schema
from hearth.synapse_compat.tables import count_users_by_role_txn, media_bytes_txn

VERSION_COUNTER = "assignments_version"

SCHEMA = Schema("hearth_policy_schema_version", (
    (1, (
        """CREATE TABLE IF NOT EXISTS hearth_policy_assignments (
            user_id TEXT NOT NULL PRIMARY KEY,
            role TEXT NOT NULL,
            source TEXT NOT NULL,
            assigned_by TEXT,
            assigned_ts BIGINT NOT NULL
        )""",
        """CREATE INDEX IF NOT EXISTS hearth_policy_assignments_role
            ON hearth_policy_assignments (role, user_id)""",
        """CREATE TABLE IF NOT EXISTS hearth_policy_counters (
            name TEXT NOT NULL PRIMARY KEY,
            value BIGINT NOT NULL
        )""",
        """INSERT INTO hearth_policy_counters (name, value) VALUES ('assignments_version', 0)
            ON CONFLICT (name) DO NOTHING""",
    )),
))
LATEST = SCHEMA.latest

SOURCE_ADMIN = "admin"
SOURCE_RULE = "registration_rule"


@dataclass(frozen=True)
class Assignment:
    """A role given to a user by an admin or picked by a registration rule."""

    user_id: str
    role: str
    source: str
    assigned_by: str | None
    assigned_ts: int

    def as_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "role": self.role, "source": self.source,
                "assigned_by": self.assigned_by, "assigned_ts": self.assigned_ts}


@dataclass(frozen=True)
class UserCounts:
    """Active local users: assigned ones by stored role, and how many have no assignment."""

    assigned: dict[str, int]
    unassigned_members: int
    unassigned_guests: int


# --- transaction functions (plain SQL, unit-tested on sqlite3) ---------------------------


def get_version_txn(txn: Cursor) -> int:
    txn.execute("SELECT value FROM hearth_policy_counters WHERE name = ?", (VERSION_COUNTER,))
    row = txn.fetchone()
    return int(row[0]) if row else 0


def _bump_version_txn(txn: Cursor) -> int:
    txn.execute("UPDATE hearth_policy_counters SET value = value + 1 WHERE name = ?",
                (VERSION_COUNTER,))
    return get_version_txn(txn)


def _row(row: Sequence[Any]) -> Assignment:
    return Assignment(user_id=row[0], role=row[1], source=row[2], assigned_by=row[3],
                      assigned_ts=int(row[4]))


def get_assignment_txn(txn: Cursor, user_id: str) -> Assignment | None:
    txn.execute("SELECT user_id, role, source, assigned_by, assigned_ts "
                "FROM hearth_policy_assignments WHERE user_id = ?", (user_id,))
    row = txn.fetchone()
    return _row(row) if row else None


def list_assignments_txn(txn: Cursor, role: str | None, after: str | None, limit: int
                         ) -> list[Assignment]:
    """Assignments ordered by user ID, after ``after`` (exclusive), optionally of one role."""
    if role is None:
        txn.execute("SELECT user_id, role, source, assigned_by, assigned_ts "
                    "FROM hearth_policy_assignments WHERE user_id > ? "
                    "ORDER BY user_id LIMIT ?", (after or "", limit))
    else:
        txn.execute("SELECT user_id, role, source, assigned_by, assigned_ts "
                    "FROM hearth_policy_assignments WHERE role = ? AND user_id > ? "
                    "ORDER BY user_id LIMIT ?", (role, after or "", limit))
    return [_row(r) for r in txn.fetchall()]


def assign_txn(txn: Cursor, assignment: Assignment, only_if_absent: bool = False
               ) -> tuple[bool, int]:
    """Store ``assignment`` (replacing any); returns (written, new version)."""
    values = (assignment.user_id, assignment.role, assignment.source, assignment.assigned_by,
              assignment.assigned_ts)
    if only_if_absent:
        txn.execute("INSERT INTO hearth_policy_assignments "
                    "(user_id, role, source, assigned_by, assigned_ts) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (user_id) DO NOTHING", values)
    else:
        txn.execute("INSERT INTO hearth_policy_assignments "
                    "(user_id, role, source, assigned_by, assigned_ts) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (user_id) DO UPDATE SET role = excluded.role, "
                    "source = excluded.source, assigned_by = excluded.assigned_by, "
                    "assigned_ts = excluded.assigned_ts", values)
    if txn.rowcount == 0:
        return False, get_version_txn(txn)
    return True, _bump_version_txn(txn)


def revoke_txn(txn: Cursor, user_id: str) -> tuple[Assignment | None, int]:
    """Delete the user's assignment; returns (what was deleted or None, new version)."""
    existing = get_assignment_txn(txn, user_id)
    if existing is None:
        return None, get_version_txn(txn)
    txn.execute("DELETE FROM hearth_policy_assignments WHERE user_id = ?", (user_id,))
    return existing, _bump_version_txn(txn)


def count_users_txn(txn: Cursor) -> UserCounts:
    """Active (not deactivated) local users by stored role, and those with none."""
    return UserCounts(*count_users_by_role_txn(txn, "hearth_policy_assignments"))


class PolicyStore(ModuleTables):
    """Async access to the tables, through Synapse's database pool."""

    def __init__(self, run: Runner) -> None:
        super().__init__(run, SCHEMA, "hearth_policy")

    async def get_version(self) -> int:
        return await self._run("hearth_policy_get_version", get_version_txn)

    async def get_assignment(self, user_id: str) -> Assignment | None:
        return await self._run("hearth_policy_get_assignment", get_assignment_txn, user_id)

    async def list_assignments(self, role: str | None, after: str | None, limit: int
                               ) -> list[Assignment]:
        return await self._run("hearth_policy_list_assignments", list_assignments_txn,
                               role, after, limit)

    async def assign(self, assignment: Assignment, only_if_absent: bool = False
                     ) -> tuple[bool, int]:
        return await self._run("hearth_policy_assign", assign_txn, assignment, only_if_absent)

    async def revoke(self, user_id: str) -> tuple[Assignment | None, int]:
        return await self._run("hearth_policy_revoke", revoke_txn, user_id)

    async def count_users(self) -> UserCounts:
        return await self._run("hearth_policy_count_users", count_users_txn)

    async def media_bytes(self, user_id: str) -> int:
        return await self._run("hearth_policy_media_bytes", media_bytes_txn, user_id)
