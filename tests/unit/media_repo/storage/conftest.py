"""Fixtures of the storage unit tests: real databases (Synapse's own schema on SQLite, our
tables on both engines), the session's S3 server, object stores, and MediaObjects wired to
them with asyncio standing in for Synapse's thread pool."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hearth.ai_bot.budget.db import Database, PostgresDatabase, SqliteDatabase
from hearth.media_repo.storage.blobs import BlobTables
from hearth.media_repo.storage.filesystem import FilesystemObjectStore
from hearth.media_repo.storage.media_objects import MediaObjects
from hearth.media_repo.storage.objects import ObjectStore
from hearth.media_repo.storage.s3 import S3Location, S3ObjectStore
from tests.harness.postgres import require_postgres_or_skip, temporary_database
from tests.harness.s3 import SessionS3

SERVER = "hs.test"


class Clock:
    """Milliseconds the test moves by hand."""

    def __init__(self, start_ms: int = 1_800_000_000_000) -> None:
        self.now = start_ms

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


def runner(db: Database) -> Any:
    """``ModuleApi.run_db_interaction``'s shape over a test database."""
    async def run(desc: str, func: Callable[..., Any], *args: Any) -> Any:
        return await db.run(lambda txn: func(txn, *args))
    return run


async def in_thread(func: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(func, *args)


@pytest.fixture(scope="session")
def synapse_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database with the schema Synapse 1.163 creates (made once, copied per test)."""
    from synapse.storage.database import LoggingDatabaseConnection
    from synapse.storage.engines import create_engine
    from synapse.storage.prepare_database import prepare_database

    path = tmp_path_factory.mktemp("synapse-schema") / "homeserver.db"
    engine = create_engine({"name": "sqlite3", "args": {"database": str(path)}})
    conn = sqlite3.connect(path)
    prepare_database(LoggingDatabaseConnection(conn=conn, engine=engine, default_txn_name="t",
                                               server_name=SERVER), engine, config=None)
    conn.commit()
    conn.close()
    return path


@pytest.fixture
async def synapse_db(synapse_schema: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """Synapse's schema plus our tables, on SQLite."""
    path = tmp_path / "homeserver.db"
    shutil.copy(synapse_schema, path)
    database = SqliteDatabase(path, workers=2)
    await BlobTables(runner(database)).migrate()
    yield database
    await database.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def tables_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """Our tables alone, migrated, on each engine."""
    database: Database
    if request.param == "sqlite":
        database = SqliteDatabase(tmp_path / "tables.db", workers=2)
        await BlobTables(runner(database)).migrate()
        yield database
        await database.close()
        return
    require_postgres_or_skip()
    with temporary_database("hearth_media_storage") as pg:
        database = PostgresDatabase(f"postgresql://{pg.user}@{pg.host}:{pg.port}/{pg.name}", 2)
        await BlobTables(runner(database)).migrate()
        yield database
        await database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def media_store(tmp_path: Path) -> Path:
    """An empty media store (Synapse's media_store_path)."""
    path = tmp_path / "media_store"
    path.mkdir()
    return path


@pytest.fixture
def fs_store(tmp_path: Path) -> FilesystemObjectStore:
    return FilesystemObjectStore(tmp_path / "objects")


@pytest.fixture
def s3_store(s3_server: SessionS3) -> S3ObjectStore:
    """An S3 object store on a fresh bucket of the session's server."""
    return S3ObjectStore(S3Location(
        bucket=s3_server.bucket("unit"), endpoint_url=s3_server.endpoint_url,
        access_key_id=s3_server.access_key_id, secret_access_key=s3_server.secret_access_key))


MakeObjects = Callable[..., MediaObjects]


@pytest.fixture
def make_objects(synapse_db: Database, media_store: Path, fs_store: FilesystemObjectStore,
                 clock: Clock) -> MakeObjects:
    """MediaObjects over Synapse's schema; the filesystem store unless another is given."""
    def make(store: ObjectStore | None = None, key: bytes | None = None,
             prefix: str = "", sleep: Callable[[float], Any] = asyncio.sleep) -> MediaObjects:
        return MediaObjects(store=store or fs_store, tables=BlobTables(runner(synapse_db)),
                            media_store_path=str(media_store), prefix=prefix, key=key,
                            in_thread=in_thread, sleep=sleep, server_name=SERVER,
                            clock=clock)
    return make


def write_media(media_store: Path, path: str, content: bytes) -> Path:
    """Put a file in the media store as Synapse would before calling the provider."""
    full = media_store / path
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_bytes(content)
    return full


def local_path(media_id: str) -> str:
    return f"local_content/{media_id[:2]}/{media_id[2:4]}/{media_id[4:]}"


@pytest.fixture
def sqlite_file(synapse_db: Database) -> Iterator[Callable[[str], list[tuple[Any, ...]]]]:
    """Run a read-only query on the Synapse database directly (assertions)."""
    assert isinstance(synapse_db, SqliteDatabase)
    conn = sqlite3.connect(synapse_db._path)
    yield lambda sql: [tuple(row) for row in conn.execute(sql).fetchall()]
    conn.close()
