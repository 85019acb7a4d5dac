"""The Synapse side of the tables a module owns: the runner shape and a store base.

The migrator itself is ``hearth.owned_tables``, shared with the bot. A module's store runs it
through ``ModuleApi.run_db_interaction`` (which converts ``?`` placeholders for PostgreSQL),
only from the process where ``should_run_background_tasks()`` is true, so no lock is needed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from hearth.owned_tables import Schema, migrate_txn, schema_version_txn

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
