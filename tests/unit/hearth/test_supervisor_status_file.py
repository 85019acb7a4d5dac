"""Supervisor: its view of each process is in a private status file `hearth status` reads."""

from __future__ import annotations

import stat
from pathlib import Path

from hearth.supervisor_status import STATUS_FILE, read_status
from tests.unit.hearth.supervised import WALL_START, FakeClock, supervisor_after_one_bot_failure


def test_status_file_shows_a_restarting_optional_process(tmp_path: Path) -> None:
    """State, pid, restarts, last exit and the next attempt's time; mode 0600."""
    clock = FakeClock()
    sup = supervisor_after_one_bot_failure(tmp_path, clock, status_dir=tmp_path)

    status = read_status(tmp_path)
    assert status is not None and status.supervisor_running
    synapse_status, bot_status = status.processes
    assert (synapse_status.name, synapse_status.state, synapse_status.optional) == (
        "synapse", "running", False)
    assert synapse_status.pid == sup.running[0].process.pid
    assert (bot_status.name, bot_status.state, bot_status.pid) == ("bot", "restarting", None)
    assert (bot_status.optional, bot_status.restarts, bot_status.last_exit_code) == (True, 1, 3)
    assert bot_status.next_restart_at == WALL_START + clock.seconds + 2
    assert stat.S_IMODE((tmp_path / STATUS_FILE).stat().st_mode) == 0o600

    sup.stop_all()
    stopped = read_status(tmp_path)
    assert stopped is not None
    assert [p.state for p in stopped.processes] == ["stopped", "stopped"]


def test_no_status_file_before_a_run(tmp_path: Path) -> None:
    """Without a `hearth run` in that data directory there is no status to read."""
    assert read_status(tmp_path) is None
