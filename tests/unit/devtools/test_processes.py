"""Child processes: started with their output in a file, ready on a line, stopped politely
first and killed when they do not listen."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from devtools.processes import printed_line, start_logged, stop_process, wait_until_ready


def _child(code: str) -> subprocess.Popen[str]:
    """A Python child that prints "up" once its signal handling is in place."""
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "up"
    return child


def test_stop_process_sends_the_signal_and_returns_the_status() -> None:
    """A child that exits on SIGINT is stopped by it; its own exit status comes back."""
    child = _child("import signal, sys, time\n"
                   "signal.signal(signal.SIGINT, lambda *_: sys.exit(3))\n"
                   "print('up', flush=True)\n"
                   "time.sleep(60)\n")
    assert stop_process(child, 30, signal.SIGINT) == 3


def test_stop_process_kills_a_child_that_ignores_the_signal() -> None:
    """A child ignoring SIGTERM is killed once the timeout has passed."""
    child = _child("import signal, time\n"
                   "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                   "print('up', flush=True)\n"
                   "time.sleep(60)\n")
    assert stop_process(child, 0.2) == -signal.SIGKILL


def test_stop_process_of_an_exited_child_only_reports_its_status() -> None:
    """Nothing is sent to a process that has already exited."""
    child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(5)"])
    child.wait()
    assert stop_process(child, 1) == 5


def test_start_logged_keeps_the_output_in_its_file(tmp_path: Path) -> None:
    """stdout and stderr land in the output file, whose folder is made on the way."""
    output = tmp_path / "logs" / "child.out"
    child = start_logged([sys.executable, "-c", "import sys; print('out'); "
                          "print('err', file=sys.stderr)"], output, tmp_path)
    assert child.wait(30) == 0
    assert sorted(output.read_text().split()) == ["err", "out"]


def test_wait_until_ready_sees_the_readiness_line(tmp_path: Path) -> None:
    """A child that prints its ``ready:`` line is ready; one that exits first is not."""
    output = tmp_path / "ready.out"
    child = start_logged([sys.executable, "-c", "import time; print('ready: now', flush=True); "
                          "time.sleep(60)"], output, tmp_path)
    try:
        assert wait_until_ready(child, lambda: printed_line(output, "ready:"), 30)
    finally:
        stop_process(child, 10)
    quitter = start_logged([sys.executable, "-c", "print('not yet ready:')"],
                           tmp_path / "quit.out", tmp_path)
    assert not wait_until_ready(quitter, lambda: printed_line(tmp_path / "quit.out", "ready:"),
                                30)
