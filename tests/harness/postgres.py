"""PostgreSQL for the tests: throw-away databases (devtools/postgres.py) and the rule for when
PostgreSQL is missing: skip locally, fail in CI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devtools.postgres import Database, DatabaseError, admin_connection, temporary_database

__all__ = ["Database", "database_for", "database_url", "postgres_available",
           "require_postgres_or_skip", "temporary_database"]


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        admin_connection(timeout_s=3).close()
    except DatabaseError as exc:
        return str(exc)
    return None


def postgres_required() -> bool:
    """CI sets REQUIRE_POSTGRES=1: then a missing PostgreSQL fails the run."""
    return os.environ.get("REQUIRE_POSTGRES", "") not in ("", "0", "false")


def require_postgres_or_skip() -> None:
    """Skip PostgreSQL cases only when it is absent and not required (CI requires it)."""
    problem = postgres_available()
    if problem is None:
        return
    if postgres_required():
        pytest.fail(f"REQUIRE_POSTGRES is set but PostgreSQL is unavailable: {problem}")
    pytest.skip(f"PostgreSQL unavailable ({problem}); set REQUIRE_POSTGRES=1 to make this fail")


@contextmanager
def database_for(engine: str, prefix: str = "hearth_test") -> Iterator[Database | None]:
    """What a homeserver on ``engine`` needs: nothing for SQLite, else a throw-away PostgreSQL
    database (skipping or failing as ``require_postgres_or_skip`` says when it is missing)."""
    if engine == "sqlite":
        yield None
        return
    require_postgres_or_skip()
    with temporary_database(prefix) as database:
        yield database


@contextmanager
def database_url(engine: str, sqlite_file: Path, prefix: str = "hearth_test") -> Iterator[str]:
    """The URL of a fresh database on ``engine`` (``sqlite:///`` or ``postgresql://``), for
    our own stores such as the bot's ledger."""
    with database_for(engine, prefix) as db:
        yield (f"sqlite:///{sqlite_file}" if db is None
               else f"postgresql://{db.user}@{db.host}:{db.port}/{db.name}")
