"""Stopping a child process: politely first, killed when it does not listen."""

from __future__ import annotations

import signal
import subprocess
import sys

from devtools.processes import stop_process


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
