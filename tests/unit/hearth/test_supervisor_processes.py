"""Supervisor: all-or-nothing start, restart with back-off, orderly stop."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from hearth import supervisor as supervisor_module
from hearth.supervisor import ProcessSpec, StartError, Supervisor, tail


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_child_dying_at_start_stops_the_others(tmp_path: Path) -> None:
    """If the second process dies while starting, the first is stopped too."""
    sup = Supervisor()
    sup.start(ProcessSpec("sleeper", _python("import time; time.sleep(60)"), tmp_path / "a.out"))
    first = sup.running[0].process
    with pytest.raises(StartError) as caught:
        # A shell, not Python: it dies well within the start-up check even on a loaded machine.
        sup.start(ProcessSpec("broken", ["/bin/sh", "-c", "echo 'bad config: x'; exit 3"],
                              tmp_path / "b.out"))
    assert "broken exited with status 3 during start-up" in str(caught.value)
    assert "bad config: x" in str(caught.value)
    assert first.poll() is not None
    assert sup.running == ()


def test_health_timeout_reports_the_log(tmp_path: Path) -> None:
    """A process that never answers its health URL is stopped with its log tail."""
    sup = Supervisor()
    spec = ProcessSpec("mute", _python("print('starting'); import time; time.sleep(60)"),
                       tmp_path / "m.out", health_url="http://127.0.0.1:9/health",
                       ready_timeout_s=1.0)
    with pytest.raises(StartError, match=r"did not answer on http://127\.0\.0\.1:9/health"):
        sup.start(spec)
    assert sup.running == ()


def test_dead_child_is_restarted_then_given_up(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that keeps dying is restarted with back-off, then reported."""
    monkeypatch.setattr(supervisor_module, "MAX_RESTARTS", 2)
    sup = Supervisor()
    marker = tmp_path / "count"
    code = (f"import pathlib,time; p=pathlib.Path({str(marker)!r}); "
            "p.write_text(str(int(p.read_text() or 0)+1) if p.exists() else '1'); time.sleep(0.7)")
    sup.start(ProcessSpec("flaky", _python(code), tmp_path / "f.out"))
    deadline = time.monotonic() + 20
    with pytest.raises(StartError, match="flaky keeps exiting"):
        while time.monotonic() < deadline:
            sup.watch_once()
            time.sleep(0.1)
    assert int(marker.read_text()) == 3  # first start + 2 restarts
    sup.stop_all()


def test_stop_all_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    """A child ignoring SIGTERM is killed after the timeout."""
    sup = Supervisor()
    code = ("import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('up', flush=True); time.sleep(60)")
    sup.start(ProcessSpec("stubborn", _python(code), tmp_path / "s.out"))
    process = sup.running[0].process
    started = time.monotonic()
    sup.stop_all(timeout_s=1.0)
    assert process.poll() is not None
    assert time.monotonic() - started < 10


def test_tail_of_missing_log() -> None:
    """Asking for the tail of a log that was never written says so."""
    assert tail(Path("/nonexistent/log")) == "(no log written)"
