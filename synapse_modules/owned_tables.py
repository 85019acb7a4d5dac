"""What every module that owns tables shares: the cursor/runner shapes and the migrator.

Synapse has no migration framework for modules, so each module keeps a prefixed schema with
its own version table and numbered, idempotent migrations, run where
``should_run_background_tasks()`` is true. The SQL here is portable (``?`` placeholders,
which Synapse converts for PostgreSQL) and unit-testable on sqlite3.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

Migrations = tuple[tuple[int, tuple[str, ...]], ...]


class Cursor(Protocol):
    """The DB-API cursor surface the transaction functions use (Synapse's or sqlite3's)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ...) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...

    @property
    def rowcount(self) -> int: ...


class Runner(Protocol):
    """``ModuleApi.run_db_interaction``: run ``func(txn, *args)`` in a transaction."""

    def __call__(self, desc: str, func: Callable[..., T], *args: Any) -> Awaitable[T]: ...


def migrate_schema_txn(txn: Cursor, version_table: str, migrations: Migrations) -> int:
    """Apply the migrations newer than ``version_table`` records; return the version before."""
    txn.execute(f"CREATE TABLE IF NOT EXISTS {version_table} (version INTEGER NOT NULL)")
    txn.execute(f"SELECT version FROM {version_table}")  # noqa: S608 - a module constant
    row = txn.fetchone()
    if row is None:
        txn.execute(f"INSERT INTO {version_table} (version) VALUES (0)")  # noqa: S608
        current = 0
    else:
        current = int(row[0])
    for number, statements in migrations:
        if number <= current:
            continue
        for statement in statements:
            txn.execute(statement)
        txn.execute(f"UPDATE {version_table} SET version = ?", (number,))  # noqa: S608
    return current


def schema_version_txn(txn: Cursor, version_table: str) -> int:
    """The version ``version_table`` records (0 before the first migration)."""
    txn.execute(f"SELECT version FROM {version_table}")  # noqa: S608 - a module constant
    row = txn.fetchone()
    return int(row[0]) if row else 0
