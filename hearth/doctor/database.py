"""The database: the SQLite file kept private, or PostgreSQL reachable, with the role, and
created with the UTF8 encoding and C collation Synapse insists on."""

from __future__ import annotations

import stat
from pathlib import Path

import psycopg2

from hearth.doctor.findings import Finding, ok, problem, warning
from hearth.settings import DatabaseSettings

CHECK = "database"
# The database file, its write-ahead log and its shared-memory index.
SQLITE_SUFFIXES = ("", "-wal", "-shm")


def create_database_line(name: str, owner: str) -> str:
    """The statement that creates a database Synapse accepts."""
    return (f"CREATE DATABASE {name} ENCODING 'UTF8' LC_COLLATE='C' LC_CTYPE='C' "
            f"TEMPLATE template0 OWNER {owner};")


def check_database(settings: DatabaseSettings, data_dir: Path) -> Finding:
    """The finding for whichever engine is configured."""
    if settings.engine == "sqlite":
        return check_sqlite(data_dir / settings.sqlite_path)
    return check_postgres(settings)


def check_sqlite(path: Path) -> Finding:
    """The database and its WAL and shared-memory files (same data: tokens, password hashes)
    are 0600: `hearth run` keeps them so whatever the umask, so anything else was changed."""
    if not path.is_file():
        return warning(CHECK, f"no SQLite database at {path} yet",
                       "it is created by the first `hearth run`; if one existed, check "
                       "database.sqlite_path and --data-dir")
    files = [Path(f"{path}{suffix}") for suffix in SQLITE_SUFFIXES]
    open_files = [(file, stat.S_IMODE(file.stat().st_mode)) for file in files
                  if file.is_file() and file.stat().st_mode & 0o077]
    if open_files:
        listed = ", ".join(f"{file} (mode {mode:04o})" for file, mode in open_files)
        return warning(CHECK, f"SQLite database files readable by others: {listed}",
                       "chmod 600 " + " ".join(str(file) for file, _ in open_files))
    return ok(CHECK, f"SQLite database {path}")


def check_postgres(settings: DatabaseSettings) -> Finding:
    """Connects as the configured role and checks encoding and collation."""
    where = f"PostgreSQL at {settings.host}:{settings.port}"
    try:
        connection = psycopg2.connect(
            host=settings.host, port=settings.port, user=settings.user,
            password=settings.password or None, dbname=settings.name, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        return _connect_problem(settings, where, str(exc))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_encoding_to_char(encoding), datcollate, datctype "
                           "FROM pg_database WHERE datname = current_database()")
            row = cursor.fetchone()
    finally:
        connection.close()
    encoding, collate, ctype = row if row else ("?", "?", "?")
    if (encoding, collate, ctype) != ("UTF8", "C", "C"):
        return problem(
            CHECK,
            f"database {settings.name} has encoding {encoding}, collation {collate}, ctype "
            f"{ctype}; Synapse refuses anything but UTF8 with C",
            f"recreate it (as a PostgreSQL superuser): "
            f"{create_database_line(settings.name, settings.user)}")
    return ok(CHECK, f"{where}, database {settings.name} as {settings.user} (UTF8, C)")


def _connect_problem(settings: DatabaseSettings, where: str, error: str) -> Finding:
    first_line = error.strip().splitlines()[0] if error.strip() else "connection failed"
    if f'role "{settings.user}" does not exist' in error:
        return problem(CHECK, f"{where}: the role {settings.user} does not exist",
                       f"create it: CREATE ROLE {settings.user} LOGIN PASSWORD '...'; "
                       "or set database.user")
    if f'database "{settings.name}" does not exist' in error:
        return problem(CHECK, f"{where}: the database {settings.name} does not exist",
                       f"create it: {create_database_line(settings.name, settings.user)}")
    if "password authentication failed" in error:
        return problem(CHECK, f"{where}: the password of {settings.user} was refused",
                       "set database.password (or HEARTH__DATABASE__PASSWORD) to the role's")
    return problem(CHECK, f"{where} is not reachable: {first_line}",
                   "start PostgreSQL, or set database.host and database.port")
