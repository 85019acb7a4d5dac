"""Stopping the child processes the tests and the benchmark start."""

from __future__ import annotations

import signal
import subprocess
from typing import Any


def stop_process(process: subprocess.Popen[Any], timeout_s: float,
                 signum: int = signal.SIGTERM) -> int:
    """Ask ``process`` to stop with ``signum``; kill it if it has not within ``timeout_s``.
    Its exit status (at once if it had already exited)."""
    if process.poll() is None:
        process.send_signal(signum)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return int(process.returncode)
