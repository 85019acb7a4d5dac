"""PostgreSQL for the benchmark: throw-away databases (devtools/postgres.py), the server's
version and the backend processes serving a run."""

from __future__ import annotations

from collections.abc import Collection

from devtools.postgres import Database, DatabaseError, admin_connection, temporary_database

__all__ = ["Database", "DatabaseError", "backend_pids", "server_version", "temporary_database"]


def server_version() -> str:
    """The PostgreSQL server's version, e.g. ``16.4``."""
    conn = admin_connection()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            row = cur.fetchone()
    finally:
        conn.close()
    return str(row[0]).split()[0] if row else "?"


def backend_pids(names: Collection[str]) -> list[int]:
    """The server processes serving connections to these databases (they run on this host)."""
    conn = admin_connection()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)", (list(names),))
            return [int(row[0]) for row in cur.fetchall()]
    finally:
        conn.close()
