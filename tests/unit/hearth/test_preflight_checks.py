"""Pre-flight: a taken port, a missing command or an unreachable service stops the start."""

from __future__ import annotations

import socket

import pytest

from hearth.preflight import PreflightError, preflight
from hearth.render import PROFILES_DIR, ports_needed
from hearth.settings import load_settings
from tests.harness.ports import free_port


def _settings(*assignments: str, profile: str = "dev"):
    return load_settings(profile, PROFILES_DIR, None, assignments, {})


def _closed_port() -> int:
    return free_port()


def test_missing_command_names_the_package() -> None:
    """A missing system command is reported with the Debian package that provides it."""
    settings = _settings(f"server.port={free_port()}", f"metrics.port={free_port()}")
    with pytest.raises(PreflightError) as caught:
        preflight(settings, required={"hearth-no-such-tool": "hearth-tools"})
    assert str(caught.value) == (
        "the command 'hearth-no-such-tool' is missing; install the system package "
        "'hearth-tools' (apt-get install hearth-tools)"
    )
    preflight(settings, required={"sh": "dash"})


def test_unreachable_postgres_and_redis_are_named() -> None:
    """PostgreSQL or Redis that does not answer is refused with the setting to fix."""
    base = (f"server.port={free_port()}", f"metrics.port={free_port()}")
    with pytest.raises(PreflightError, match=r"PostgreSQL is not reachable at 127\.0\.0\.1:"):
        preflight(_settings(*base, "database.engine=postgres",
                            f"database.port={_closed_port()}"), required={})
    with pytest.raises(PreflightError, match=r"Redis is not reachable at 127\.0\.0\.1:"):
        preflight(_settings(*base, "redis.enabled=true", f"redis.port={_closed_port()}"),
                  required={})


def test_metrics_port_in_use_is_refused() -> None:
    """The metrics listener's port is checked as well as the client port."""
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        expected = rf"port {taken} on 127\.0\.0\.1 \(metrics\.port\)"
        with pytest.raises(PreflightError, match=expected):
            preflight(_settings(f"server.port={free_port()}", f"metrics.port={taken}"),
                      required={})


def test_worker_ports_are_planned() -> None:
    """With workers, every worker listener is part of the check."""
    settings = _settings(profile="production")
    whats = [what for _, _, what in ports_needed(settings)]
    # 5 HTTP listeners + the replication listeners of the event persister and the media worker
    assert whats.count("workers.base_port") == 7
    assert "workers.replication_port" in whats


def test_bot_metrics_port_is_checked_when_the_bot_starts(tmp_path) -> None:
    """With a model key the bot starts, so its taken metrics port stops the start; without
    one the bot stays off and its port is not in the way."""
    key_file = tmp_path / "key"
    key_file.write_text("sk-test\n")
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        base = (f"server.port={free_port()}", f"metrics.port={free_port()}",
                f"metrics.supervisor_port={free_port()}", f"ai_bot.metrics_port={taken}")
        with pytest.raises(PreflightError, match=rf"port {taken} .*\(ai_bot\.metrics_port\)"):
            preflight(_settings(*base, f"ai_bot.api_key_file={key_file}"), required={})
        preflight(_settings(*base, f"ai_bot.api_key_file={tmp_path / 'absent'}"), required={})


def test_scanning_without_clamd_refused_before_start(tmp_path, clamd) -> None:
    """Uploads must be scanned but clamd does not answer: the start stops, naming the
    setting; with the session's clamd, or when unscanned uploads are allowed, it goes on."""
    base = (f"server.port={free_port()}", f"metrics.port={free_port()}",
            "media.scan.enabled=true")
    with pytest.raises(PreflightError, match=r"clamd does not answer at .*media\.scan\.clamd"):
        preflight(_settings(*base, f"media.scan.clamd={tmp_path / 'none.sock'}"), required={})
    preflight(_settings(*base, f"media.scan.clamd={clamd.socket_path}"), required={})
    preflight(_settings(*base, f"media.scan.clamd={tmp_path / 'none.sock'}",
                        "media.scan.on_unavailable=allow"), required={})
