"""The one migrator of the tables we own, on SQLite and PostgreSQL (real transactions)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hearth.ai_bot.budget.db import Database, PostgresDatabase, SqliteDatabase, Txn
from hearth.owned_tables import Schema, migrate_txn, schema_version_txn
from tests.harness.postgres import require_postgres_or_skip, temporary_database

VERSIONS = "hearth_test_schema_version"
FIRST = (1, ("CREATE TABLE IF NOT EXISTS hearth_test_items (name TEXT NOT NULL)",
             "INSERT INTO hearth_test_items (name) VALUES ('from-1')"))
SECOND = (2, ("CREATE INDEX IF NOT EXISTS hearth_test_items_name ON hearth_test_items (name)",
              "INSERT INTO hearth_test_items (name) VALUES ('from-2')"))
V1 = Schema(VERSIONS, (FIRST,))
V2 = Schema(VERSIONS, (FIRST, SECOND))


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        database: Database = SqliteDatabase(tmp_path / "owned.db", workers=1)
        yield database
        await database.close()
        return
    require_postgres_or_skip()
    with temporary_database("hearth_owned") as pg:
        database = PostgresDatabase(f"postgresql://{pg.user}@{pg.host}:{pg.port}/{pg.name}", 1)
        yield database
        await database.close()


async def _items(db: Database) -> list[str]:
    rows = await db.run(lambda txn: txn.all("SELECT name FROM hearth_test_items ORDER BY name"))
    return [str(row[0]) for row in rows]


async def _version_rows(db: Database) -> list[tuple[object, ...]]:
    return await db.run(lambda txn: txn.all(f"SELECT version FROM {VERSIONS}"))


async def test_migrate_fresh_database_applies_every_migration(db: Database) -> None:
    """A fresh database goes from 0 to the latest version, recorded in one row."""
    assert await db.migrate(V2) == 0
    assert await _items(db) == ["from-1", "from-2"]
    assert await _version_rows(db) == [(2,)]
    assert await db.run(lambda txn: schema_version_txn(txn, V2)) == 2


async def test_migrate_rerun_changes_nothing(db: Database) -> None:
    """Running again (every start does) applies no migration twice."""
    await db.migrate(V2)
    assert await db.migrate(V2) == 2
    assert await _items(db) == ["from-1", "from-2"]
    assert await _version_rows(db) == [(2,)]


async def test_migrate_older_version_applies_only_newer_migrations(db: Database) -> None:
    """A database at version 1 gets migration 2 only."""
    assert await db.migrate(V1) == 0
    assert await db.migrate(V2) == 1
    assert await _items(db) == ["from-1", "from-2"]
    assert await _version_rows(db) == [(2,)]


async def test_migrate_failing_migration_leaves_the_version_unchanged(db: Database) -> None:
    """A broken migration raises and leaves the version (and data) as before; a fix applies."""
    await db.migrate(V1)
    broken = Schema(VERSIONS, (FIRST, (2, (SECOND[1][1], "INSERT INTO hearth_test_nowhere "
                                              "(name) VALUES ('x')"))))
    with pytest.raises(Exception, match="hearth_test_nowhere"):
        await db.migrate(broken)
    assert await db.run(lambda txn: schema_version_txn(txn, V2)) == 1
    assert await _items(db) == ["from-1"]
    assert await db.migrate(V2) == 1
    assert await _items(db) == ["from-1", "from-2"]


async def test_migrate_row_per_version_table_reads_its_highest_version(db: Database) -> None:
    """The bot's first migrator appended a row per migration: read as the highest, kept one."""
    def legacy(txn: Txn) -> None:
        txn.execute(f"CREATE TABLE {VERSIONS} (version INTEGER NOT NULL)")
        txn.execute(f"INSERT INTO {VERSIONS} (version) VALUES (1)")
        for statement in FIRST[1]:
            txn.execute(statement)

    await db.run(legacy)
    assert await db.migrate(V1) == 1
    assert await _items(db) == ["from-1"]
    assert await db.migrate(V2) == 1
    assert await _version_rows(db) == [(2,)]


async def test_migrate_concurrent_postgres_takes_the_schema_lock(db: Database) -> None:
    """With the lock (the bot's workers) the result is the same on either engine."""
    concurrent = db.dialect == "postgres"
    assert await db.run(lambda txn: migrate_txn(txn, V2, concurrent_postgres=concurrent)) == 0
    assert await _version_rows(db) == [(2,)]


def test_schema_misnumbered_migrations_refused() -> None:
    """Migrations must be numbered from 1 upwards, each once."""
    for migrations in ((), ((0, ()),), (SECOND, FIRST), (FIRST, FIRST)):
        with pytest.raises(ValueError, match="numbered 1, 2"):
            Schema(VERSIONS, migrations)
