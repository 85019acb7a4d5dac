"""Throw-away PostgreSQL databases with the C collation Synapse insists on."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2
import pytest

HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
USER = os.environ.get("TEST_PG_USER", "postgres")


@dataclass(frozen=True)
class Database:
    """Connection facts for one test database."""

    host: str
    port: int
    user: str
    name: str


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        psycopg2.connect(host=HOST, port=PORT, user=USER, dbname="postgres",
                         connect_timeout=3).close()
    except psycopg2.Error as exc:
        return f"PostgreSQL at {HOST}:{PORT} as {USER}: {str(exc).strip()}"
    return None


def postgres_required() -> bool:
    """CI sets REQUIRE_POSTGRES=1: then a missing PostgreSQL fails the run."""
    return os.environ.get("REQUIRE_POSTGRES", "") not in ("", "0", "false")


def _admin_connection() -> psycopg2.extensions.connection:
    conn = psycopg2.connect(host=HOST, port=PORT, user=USER, dbname="postgres", connect_timeout=5)
    conn.autocommit = True
    return conn


@contextmanager
def temporary_database(prefix: str = "hearth_test") -> Iterator[Database]:
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


def require_postgres_or_skip() -> None:
    """Skip PostgreSQL cases only when it is absent and not required (CI requires it)."""
    problem = postgres_available()
    if problem is None:
        return
    if postgres_required():
        pytest.fail(f"REQUIRE_POSTGRES is set but PostgreSQL is unavailable: {problem}")
    pytest.skip(f"PostgreSQL unavailable ({problem}); set REQUIRE_POSTGRES=1 to make this fail")
