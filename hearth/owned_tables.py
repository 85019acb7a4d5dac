"""The one migrator for every table this project owns (the Synapse modules' and the bot's).

Neither Synapse nor the bot's database layer has a migration framework, so each owner (a
module, the ledger, the answer links) declares a :class:`Schema`: its own version table and
numbered migrations whose statements are idempotent (``CREATE ... IF NOT EXISTS``, portable
types, ``?`` placeholders that the runner converts for PostgreSQL). :func:`migrate_txn`
applies, inside the caller's transaction, the migrations newer than the recorded version and
records the version only after a migration's statements all ran, so a failure leaves the
version where it was and the next start retries.

The version table holds one row. It is read with ``MAX(version)`` because the bot's first
migrator appended a row per migration: tables written that way read the same and are reduced
to one row at the next migration, so no deployed schema runs a migration twice.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

Migrations = tuple[tuple[int, tuple[str, ...]], ...]


class Cursor(Protocol):
    """The DB-API cursor surface transaction functions use (Synapse's, sqlite3's, the bot's)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ...) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...

    @property
    def rowcount(self) -> int: ...


@dataclass(frozen=True)
class Schema:
    """The tables of one owner: where their version is kept and how to reach each version."""

    version_table: str
    migrations: Migrations

    def __post_init__(self) -> None:
        numbers = [number for number, _ in self.migrations]
        if not numbers or numbers != sorted(set(numbers)) or numbers[0] < 1:
            raise ValueError(f"{self.version_table}: migrations must be numbered 1, 2, ... "
                             f"in increasing order, got {numbers}")

    @property
    def latest(self) -> int:
        return self.migrations[-1][0]

    @property
    def lock_key(self) -> int:
        """A PostgreSQL advisory-lock key unique to this schema (stable across releases)."""
        return zlib.crc32(self.version_table.encode("ascii"))


def schema_version_txn(txn: Cursor, schema: Schema) -> int:
    """The version the schema is at (0 before the first migration)."""
    txn.execute(f"SELECT MAX(version) FROM {schema.version_table}")  # noqa: S608 - a constant
    row = txn.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate_txn(txn: Cursor, schema: Schema, *, concurrent_postgres: bool = False) -> int:
    """Apply the migrations newer than the recorded version; return the version before.

    ``concurrent_postgres``: several processes may migrate the same PostgreSQL database at
    once (the bot's workers); they then take turns on a transaction-scoped advisory lock.
    """
    if concurrent_postgres:
        txn.execute("SELECT pg_advisory_xact_lock(?)", (schema.lock_key,))
    txn.execute(f"CREATE TABLE IF NOT EXISTS {schema.version_table} "
                "(version INTEGER NOT NULL)")
    before = current = schema_version_txn(txn, schema)
    for number, statements in schema.migrations:
        if number <= current:
            continue
        for statement in statements:
            txn.execute(statement)
        txn.execute(f"DELETE FROM {schema.version_table}")  # noqa: S608 - a constant
        txn.execute(f"INSERT INTO {schema.version_table} (version) VALUES (?)",  # noqa: S608
                    (number,))
        current = number
    return before


# --- The Synapse side: a module's store runs the migrator through ModuleApi.run_db_interaction
# (which converts ``?`` placeholders for PostgreSQL), only where should_run_background_tasks()
# is true, so no lock is needed. No Synapse import: the runner is a protocol.
T = TypeVar("T")


class Runner(Protocol):
    """``ModuleApi.run_db_interaction``: run ``func(txn, *args)`` in a transaction."""

    def __call__(self, desc: str, func: Callable[..., T], *args: Any) -> Awaitable[T]: ...


class ModuleTables:
    """Async access to one module's tables; ``prefix`` names its transactions in Synapse's logs."""

    def __init__(self, run: Runner, schema: Schema, prefix: str) -> None:
        self._run = run
        self._schema = schema
        self._prefix = prefix

    async def migrate(self) -> int:
        """Bring the schema to its latest version; returns the version it was at before."""
        return await self._run(f"{self._prefix}_migrate", migrate_txn, self._schema)

    async def schema_version(self) -> int:
        return await self._run(f"{self._prefix}_schema_version", schema_version_txn,
                               self._schema)
