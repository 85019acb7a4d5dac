"""Child processes the tests wait on: started with their output kept, ready on a marker line."""

from __future__ import annotations

import subprocess
import threading
import time


def launch(argv: list[str], ready_prefix: str, output: list[str], timeout_s: float,
           env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], bool]:
    """Start ``argv``, appending its output lines to ``output`` as they come; the process and
    whether it printed a line starting with ``ready_prefix`` before exiting or ``timeout_s``."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, stdin=subprocess.DEVNULL, env=env)
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            if line.startswith(ready_prefix):
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while not ready.wait(0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            return process, False
    return process, True
