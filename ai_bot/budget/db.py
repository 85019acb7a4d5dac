"""The ledger's database: SQLite or PostgreSQL behind one transaction call.

Both engines use their standard blocking drivers (stdlib ``sqlite3``; ``psycopg2``, which
Synapse's postgres extra already installs) in a small thread pool, so one body of SQL and one
transaction function serve both, the event loop never blocks, and no second PostgreSQL driver
is added to the install. Reservations are a few short transactions per model call, far from
needing a native async driver.

A database is named by URL: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``
(SQLAlchemy's convention), or ``postgresql://user:password@host:port/dbname``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar

import psycopg2
import psycopg2.extensions
import psycopg2.pool

from hearth.owned_tables import Schema, migrate_txn

T = TypeVar("T")
Dialect = Literal["sqlite", "postgres"]


class Txn:
    """One open transaction; SQL is written with ``?`` placeholders for both engines."""

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        self._cursor = cursor
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed."""
        self._cursor.execute(self._sql(sql), tuple(params))
        return int(self._cursor.rowcount)

    def one(self, sql: str, params: Sequence[Any] = (), *,
            for_update: bool = False) -> tuple[Any, ...] | None:
        """The first row of a query, or None; ``for_update`` locks it until the end.

        Row locks matter on PostgreSQL only: SQLite's BEGIN IMMEDIATE already serialises
        writers.
        """
        if for_update and self.dialect == "postgres":
            sql += " FOR UPDATE"
        self._cursor.execute(self._sql(sql), tuple(params))
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of a query."""
        self._cursor.execute(self._sql(sql), tuple(params))
        return [tuple(row) for row in self._cursor.fetchall()]

    # The DB-API cursor surface, so that ``hearth.owned_tables`` runs on this transaction too.

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


class Database(ABC):
    """Runs a function inside one transaction, in a worker thread."""

    dialect: Dialect

    def __init__(self, workers: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers,
                                            thread_name_prefix=f"ai-ledger-{self.dialect}")

    async def run(self, fn: Callable[[Txn], T]) -> T:
        """``fn`` in a transaction: committed when it returns, rolled back when it raises."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._transaction, fn)

    async def migrate(self, schema: Schema) -> int:
        """Bring ``schema`` to its latest version (safe on every start, from every worker)."""
        return await self.run(lambda txn: migrate_txn(
            txn, schema, concurrent_postgres=self.dialect == "postgres"))

    @abstractmethod
    def _transaction(self, fn: Callable[[Txn], T]) -> T: ...

    async def close(self) -> None:
        """Finish running transactions and close the connections."""
        await asyncio.to_thread(self._executor.shutdown, True)
        await asyncio.to_thread(self._close_connections)

    @abstractmethod
    def _close_connections(self) -> None: ...


class SqliteDatabase(Database):
    """One connection per worker thread; BEGIN IMMEDIATE makes each transaction a writer."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, workers: int = 4) -> None:
        super().__init__(workers)
        self._path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Autocommit mode, so BEGIN/COMMIT below are ours; other processes (another bot
            # worker) wait up to 30 s for the write lock instead of failing.
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _transaction(self, fn: Callable[[Txn], T]) -> T:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(Txn(conn.cursor(), "sqlite"))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _close_connections(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()


class PostgresDatabase(Database):
    """A connection pool as large as the thread pool; row locks order concurrent writers."""

    dialect: Dialect = "postgres"

    def __init__(self, dsn: str, workers: int = 4) -> None:
        super().__init__(workers)
        self._pool = psycopg2.pool.ThreadedConnectionPool(1, workers, dsn)

    def _transaction(self, fn: Callable[[Txn], T]) -> T:
        conn = self._pool.getconn()
        broken = False
        try:
            with conn, conn.cursor() as cursor:  # commits, or rolls back on an exception
                return fn(Txn(cursor, "postgres"))
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            broken = True
            raise
        finally:
            self._pool.putconn(conn, close=broken or bool(conn.closed))

    def _close_connections(self) -> None:
        self._pool.closeall()


async def open_database(url: str, workers: int = 4) -> Database:
    """The database a URL names (connecting happens off the event loop)."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path or path == ":memory:":
            raise ValueError("The ledger needs a database file: sqlite:///path/to/ledger.db")
        return SqliteDatabase(Path(path), workers)
    if url.startswith(("postgresql://", "postgres://")):
        return await asyncio.to_thread(PostgresDatabase, url, workers)
    raise ValueError(
        f"Unsupported ledger database URL {url.split('://')[0]!r}: expected sqlite:///PATH or "
        "postgresql://USER@HOST:PORT/DBNAME"
    )
