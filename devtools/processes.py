"""Starting, waiting for and stopping the child processes the tests and the benchmark run."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def start_logged(argv: list[str], output_file: Path, cwd: Path,
                 env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a session of its own (so what it starts can be found and stopped with
    it), stdin closed, stdout and stderr into ``output_file``: the output outlives the process,
    for failure messages and for a data directory that is kept."""
    output_file.parent.mkdir(parents=True, exist_ok=True)
    with output_file.open("wb") as output:
        return subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=subprocess.STDOUT, start_new_session=True, env=env)


def printed_line(output_file: Path, prefix: str) -> bool:
    """Whether ``output_file`` has a line starting with ``prefix`` (a readiness line)."""
    if not output_file.is_file():
        return False
    text = output_file.read_text(encoding="utf-8", errors="replace")
    return any(line.startswith(prefix) for line in text.splitlines())


def wait_until_ready(process: subprocess.Popen[Any], ready: Callable[[], bool],
                     timeout_s: float, poll_s: float = 0.2) -> bool:
    """Poll ``ready`` until it is true; False as soon as ``process`` has exited or
    ``timeout_s`` has passed without it."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(poll_s)
    return True


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
