"""Throw-away PostgreSQL databases with the C collation Synapse insists on, for the tests and
the benchmark alike (PostgreSQL at TEST_PG_HOST:TEST_PG_PORT as TEST_PG_USER, by default the
local trust setup: 127.0.0.1:5432 as postgres)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2
import psycopg2.extensions

HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
USER = os.environ.get("TEST_PG_USER", "postgres")


class DatabaseError(RuntimeError):
    """PostgreSQL is unreachable or refused to create or drop a database."""


@dataclass(frozen=True)
class Database:
    """Connection facts for one throw-away database."""

    host: str
    port: int
    user: str
    name: str


def admin_connection(timeout_s: int = 5) -> psycopg2.extensions.connection:
    """An autocommit connection to the ``postgres`` database, for CREATE/DROP DATABASE."""
    try:
        conn = psycopg2.connect(host=HOST, port=PORT, user=USER, dbname="postgres",
                                connect_timeout=timeout_s)
    except psycopg2.Error as exc:
        raise DatabaseError(f"PostgreSQL at {HOST}:{PORT} as {USER}: {str(exc).strip()}"
                            ) from exc
    conn.autocommit = True
    return conn


@contextmanager
def temporary_database(prefix: str = "hearth_test", locale: str = "C") -> Iterator[Database]:
    """Create a fresh database, hand it out, drop it afterwards. ``locale`` (collation and
    ctype) other than C makes one Synapse refuses, for the tests that must detect that."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    conn = admin_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"CREATE DATABASE {name} ENCODING 'UTF8' LC_COLLATE='{locale}' "
                f"LC_CTYPE='{locale}' TEMPLATE template0"
            )
        yield Database(host=HOST, port=PORT, user=USER, name=name)
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.close()
