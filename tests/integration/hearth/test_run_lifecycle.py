"""`hearth run`: data reused across runs, refusals before anything starts, clean stop."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.harness.ports import free_port
from tests.harness.postgres import database_for
from tests.harness.server import make_homeserver


def _hearth(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hearth.cli", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _login(base_url: str, user: str, password: str) -> int:
    response = httpx.post(f"{base_url}/_matrix/client/v3/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
        "password": password}, timeout=10)
    return response.status_code


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_second_run_reuses_data_and_admin(tmp_path: Path, smtp_port: int, engine: str) -> None:
    """A second run keeps secrets, accounts and the admin created once by the first."""
    with database_for(engine) as database:
        server = make_homeserver(engine, tmp_path, smtp_port, database)
        server.start()
        try:
            assert any(line.startswith("created admin account @admin:localhost")
                       for line in server.output)
            first_admin = server.admin
            secrets_before = {p.name: p.read_bytes() for p in (tmp_path / "secrets").iterdir()}
            created = _hearth("create-user", "carol", "--password", "Carol-password-1",
                              "--data-dir", str(tmp_path))
            assert created.returncode == 0, created.stderr
        finally:
            server.stop()
        assert not _answers(server.port)

        server.start()
        try:
            assert not any(line.startswith("created admin") for line in server.output)
            assert server.admin == first_admin
            assert {p.name: p.read_bytes() for p in (tmp_path / "secrets").iterdir()} == (
                secrets_before)
            assert _login(server.base_url, "carol", "Carol-password-1") == 200
            assert _login(server.base_url, "admin", first_admin["password"]) == 200
        finally:
            server.stop()
        assert (tmp_path / "admin-credentials.json").stat().st_mode & 0o077 == 0


def test_port_in_use_refused_before_start(tmp_path: Path) -> None:
    """A taken port gives one clear line and a non-zero exit; nothing is started."""
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = _hearth("run", "--data-dir", str(tmp_path), "--port", str(port),
                         "--set", f"metrics.port={free_port()}", timeout=60)
    assert result.returncode == 1
    assert f"error: port {port} on 127.0.0.1 (server.port) is already in use" in result.stderr
    assert not (tmp_path / "logs" / "synapse.out").exists()


def test_invalid_setting_refused_before_start(tmp_path: Path) -> None:
    """A bad setting stops `run` with the key, the value and what is expected."""
    result = _hearth("run", "--data-dir", str(tmp_path), "--port", str(free_port()),
                     "--set", "auth.failed_login_limit=many", timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: Invalid setting 'auth.failed_login_limit': got 'many', input should be a "
        "valid integer, unable to parse string as an integer"
    ]
    assert not (tmp_path / "homeserver.yaml").exists()


def test_config_synapse_refuses_stops_everything(tmp_path: Path) -> None:
    """When Synapse rejects the rendered config, `run` says why and leaves nothing running."""
    port = free_port()
    result = _hearth("run", "--data-dir", str(tmp_path), "--port", str(port),
                     "--set", f"metrics.port={free_port()}",
                     "--set", "synapse_overrides.max_upload_size=lots")
    assert result.returncode == 1
    assert "error: synapse exited with status" in result.stderr
    assert "lots" in result.stderr
    assert not _answers(port)
    assert "ready:" not in result.stdout


def test_check_config_accepts_and_refuses(tmp_path: Path) -> None:
    """`check-config` has Synapse load the rendered file and reports its verdict."""
    ok = _hearth("check-config", "--data-dir", str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert "ok: Synapse accepts" in ok.stdout and "(server_name localhost)" in ok.stdout
    bad = _hearth("check-config", "--data-dir", str(tmp_path),
                  "--set", "synapse_overrides.max_upload_size=lots")
    assert bad.returncode == 1
    assert "error: Synapse refused" in bad.stderr


def test_every_subcommand_has_help() -> None:
    """`--help` works on the tool and each subcommand."""
    for command in ("", "render", "check-config", "show-settings", "run", "create-user",
                    "make-admin", "status", "doctor"):
        result = _hearth(*([command] if command else []), "--help")
        assert result.returncode == 0 and "usage: hearth" in result.stdout, command


def test_status_and_admin_commands(homeserver, tmp_path: Path) -> None:
    """`status`, `create-user` and `make-admin` work against a running server."""
    data = str(homeserver.data_dir)
    status = _hearth("status", "--data-dir", data, "--json")
    assert status.returncode == 0
    assert json.loads(status.stdout)["up"] is True
    name = f"dave{free_port()}"
    created = _hearth("create-user", name, "--data-dir", data)
    assert created.returncode == 0 and "password: " in created.stdout
    password = created.stdout.split("password: ", 1)[1].strip()
    assert _login(homeserver.base_url, name, password) == 200
    user_id = f"@{name}:localhost"
    promoted = _hearth("make-admin", user_id, "--data-dir", data)
    assert promoted.returncode == 0, promoted.stderr
    admin_token = homeserver.admin["access_token"]
    info = httpx.get(f"{homeserver.base_url}/_synapse/admin/v2/users/{user_id}",
                     headers={"Authorization": f"Bearer {admin_token}"}, timeout=10).json()
    assert info["admin"] is True
    missing = _hearth("status", "--data-dir", str(tmp_path))
    assert missing.returncode == 2 and "No rendered config" in missing.stderr
