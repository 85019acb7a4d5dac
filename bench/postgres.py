"""Throw-away PostgreSQL databases with the C collation Synapse insists on."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2

HOST = "127.0.0.1"
PORT = 5432
USER = "postgres"


class DatabaseError(RuntimeError):
    """PostgreSQL is unreachable or refused to create or drop a database."""


@dataclass(frozen=True)
class Database:
    """Connection facts for one benchmark database."""

    host: str
    port: int
    user: str
    name: str


def _admin_connection() -> psycopg2.extensions.connection:
    try:
        conn = psycopg2.connect(host=HOST, port=PORT, user=USER, dbname="postgres",
                                connect_timeout=5)
    except psycopg2.Error as exc:
        raise DatabaseError(f"PostgreSQL at {HOST}:{PORT} as {USER}: {exc}".strip()) from exc
    conn.autocommit = True
    return conn


def server_version() -> str:
    """The PostgreSQL server's version, e.g. ``16.4``."""
    conn = _admin_connection()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            row = cur.fetchone()
    finally:
        conn.close()
    return str(row[0]).split()[0] if row else "?"


def backend_pids(names: Collection[str]) -> list[int]:
    """The server processes serving connections to these databases (they run on this host)."""
    conn = _admin_connection()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)", (list(names),))
            return [int(row[0]) for row in cur.fetchall()]
    finally:
        conn.close()


@contextmanager
def temporary_database(prefix: str) -> Iterator[Database]:
    """Create a fresh database, hand it out, drop it afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    conn = _admin_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"CREATE DATABASE {name} ENCODING 'UTF8' LC_COLLATE='C' LC_CTYPE='C' "
                "TEMPLATE template0"
            )
        yield Database(host=HOST, port=PORT, user=USER, name=name)
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.close()
