"""`hearth doctor`, database: the SQLite file's privacy; PostgreSQL's reachability, role and
the UTF8 / C collation Synapse insists on (against the real local PostgreSQL)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hearth.doctor.database import check_database
from hearth.settings import DatabaseSettings
from tests.harness.ports import free_port
from tests.harness.postgres import Database, require_postgres_or_skip, temporary_database


def _postgres(database: Database, **changes: object) -> DatabaseSettings:
    return DatabaseSettings.model_validate({
        "engine": "postgres", "host": database.host, "port": database.port,
        "user": database.user, "name": database.name, **changes})


def test_sqlite_missing_file_is_a_warning(tmp_path: Path) -> None:
    """Before the first run there is no database yet; said, but not a problem."""
    finding = check_database(DatabaseSettings(), tmp_path)
    assert finding.level == "warning"
    assert f"no SQLite database at {tmp_path / 'homeserver.db'}" in finding.what


@pytest.mark.parametrize("directory_mode", [
    pytest.param(0o755, id="open-directory"),
    # `hearth run` keeps the files 0600 itself, so a private directory is no excuse.
    pytest.param(0o700, id="private-directory"),
])
def test_sqlite_readable_by_others_says_chmod(tmp_path: Path, directory_mode: int) -> None:
    """A 0644 database is flagged with the chmod that fixes it, whatever its directory."""
    database = tmp_path / "homeserver.db"
    database.write_bytes(b"")
    os.chmod(database, 0o644)
    os.chmod(tmp_path, directory_mode)
    finding = check_database(DatabaseSettings(), tmp_path)
    assert finding.level == "warning"
    assert finding.fix == f"chmod 600 {database}"
    os.chmod(database, 0o600)
    assert check_database(DatabaseSettings(), tmp_path).level == "ok"


def test_sqlite_wal_and_shm_open_flagged(tmp_path: Path) -> None:
    """The WAL and shared-memory files hold the same data as the database: checked too."""
    database = tmp_path / "homeserver.db"
    for suffix, mode in (("", 0o600), ("-wal", 0o644), ("-shm", 0o640)):
        Path(f"{database}{suffix}").write_bytes(b"")
        os.chmod(f"{database}{suffix}", mode)
    finding = check_database(DatabaseSettings(), tmp_path)
    assert finding.level == "warning"
    assert "homeserver.db-wal (mode 0644)" in finding.what
    assert finding.fix == f"chmod 600 {database}-wal {database}-shm"
    for suffix in ("-wal", "-shm"):
        os.chmod(f"{database}{suffix}", 0o600)
    assert check_database(DatabaseSettings(), tmp_path).level == "ok"


def test_postgres_with_c_collation_is_ok(tmp_path: Path) -> None:
    """A database made the way Synapse wants passes."""
    require_postgres_or_skip()
    with temporary_database("hearth_doctor") as database:
        finding = check_database(_postgres(database), tmp_path)
    assert finding.level == "ok", finding
    assert "(UTF8, C)" in finding.what


def test_postgres_wrong_collation_is_a_problem_with_the_create_line(tmp_path: Path) -> None:
    """C.UTF-8 (the server default here) is refused by Synapse: found, and the fix given."""
    require_postgres_or_skip()
    with temporary_database("hearth_doctor", locale="C.UTF-8") as database:
        finding = check_database(_postgres(database), tmp_path)
    assert finding.level == "problem"
    assert "collation C.UTF-8" in finding.what
    assert finding.fix.endswith(
        f"CREATE DATABASE {database.name} ENCODING 'UTF8' LC_COLLATE='C' LC_CTYPE='C' "
        f"TEMPLATE template0 OWNER {database.user};")


def test_postgres_missing_role_and_database_are_named(tmp_path: Path) -> None:
    """A role or database that does not exist is named, with the statement to create it."""
    require_postgres_or_skip()
    with temporary_database("hearth_doctor") as database:
        no_role = check_database(_postgres(database, user="hearth_nobody"), tmp_path)
        no_database = check_database(_postgres(database, name="hearth_absent_db"), tmp_path)
    assert no_role.level == "problem"
    assert "the role hearth_nobody does not exist" in no_role.what
    assert no_role.fix.startswith("create it: CREATE ROLE hearth_nobody LOGIN")
    assert no_database.level == "problem"
    assert "the database hearth_absent_db does not exist" in no_database.what
    assert "CREATE DATABASE hearth_absent_db ENCODING 'UTF8'" in no_database.fix


def test_postgres_not_listening_is_a_problem(tmp_path: Path) -> None:
    """Nothing on the port: unreachable, fix names the host and port settings."""
    settings = DatabaseSettings(engine="postgres", port=free_port())
    finding = check_database(settings, tmp_path)
    assert finding.level == "problem"
    assert f"PostgreSQL at 127.0.0.1:{settings.port} is not reachable" in finding.what
    assert "database.host and database.port" in finding.fix
