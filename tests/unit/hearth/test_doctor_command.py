"""`hearth doctor` as a command: one line per check, a fix under each problem, exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearth.cli import main
from hearth.doctor.homeserver import check_homeserver
from hearth.settings import ServerSettings
from tests.harness.ports import free_port


def test_invalid_setting_is_the_one_problem(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A bad setting is reported with its path and stops the other checks; exit 1."""
    code = main(["doctor", "--data-dir", str(tmp_path), "--set", "auth.failed_login_limit=many"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines[0].startswith("PROBLEM  settings: Invalid setting 'auth.failed_login_limit'")
    assert lines[1].startswith("         fix: correct that setting")
    assert len(lines) == 2


def test_stopped_homeserver_is_a_problem(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing on the client port: each check still runs, the homeserver's says how to start it."""
    port = free_port()
    code = main(["doctor", "--data-dir", str(tmp_path), "--set", f"server.port={port}",
                 "--set", "email.enabled=false", "--set", "ai_bot.enabled=false"])
    out = capsys.readouterr().out
    assert code == 1
    checks = [line.split(":", 1)[0].split()[-1] for line in out.splitlines()
              if not line.startswith(" ")]
    assert checks == ["settings", "database", "redis", "homeserver", "endpoint", "server"]
    assert f"PROBLEM  homeserver: the homeserver does not answer at http://127.0.0.1:{port}" in out
    assert "start it with `hearth run`" in out


def test_homeserver_check_brackets_ipv6() -> None:
    """An IPv6 bind address gives a usable URL."""
    finding = check_homeserver(ServerSettings(bind_address="::1", port=free_port()))
    assert "http://[::1]:" in finding.what
