"""Start a server subprocess, wait until it is ready, stop it (its whole process group)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path

import httpx
import yaml

from bench import procs
from bench.postgres import Database
from devtools.processes import stop_process, wait_until_ready

READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 60.0


class StartError(RuntimeError):
    """A server did not come up; the message carries the tail of its output."""


class ServerProcess(ABC):
    """One homeserver under test: a subprocess listening on ``127.0.0.1:port``."""

    name: str

    def __init__(self, data_dir: Path, port: int, database: Database | None) -> None:
        self.data_dir = data_dir
        self.port = port
        self.database = database  # None: SQLite in the data directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The pid of the running server process, or None."""
        return self.process.pid if self.process is not None else None

    @property
    @abstractmethod
    def config_file(self) -> Path:
        """The homeserver.yaml Synapse reads."""

    @property
    def shared_secret(self) -> str:
        """The registration shared secret, from the config file (both servers keep it inline)."""
        config = yaml.safe_load(self.config_file.read_text(encoding="utf-8"))
        return str(config["registration_shared_secret"])

    @abstractmethod
    def _spawn(self) -> subprocess.Popen[bytes]:
        """Start the process (in its own session, so stopping it stops its children)."""

    @abstractmethod
    def _ready(self) -> bool:
        """True once the server answers clients."""

    @abstractmethod
    def output_tail(self) -> str:
        """The last lines the server wrote, for an error message."""

    def start(self) -> None:
        """Start and wait until ready; on failure stop what started and raise StartError."""
        self.process = self._spawn()
        if not wait_until_ready(self.process, self._ready, READY_TIMEOUT_S):
            code = self.process.poll()
            self.stop()
            state = f"exited with {code}" if code is not None else "timed out"
            raise StartError(f"{self.name} did not start ({state}):\n{self.output_tail()}")

    def stop(self) -> None:
        """SIGTERM, wait, then SIGKILL whatever is left of the processes it started."""
        process, self.process = self.process, None
        if process is None:
            return
        started = {(p.pid, p.started_at) for p in procs.tree([process.pid])}
        stop_process(process, STOP_TIMEOUT_S)
        # Whatever it had started and left behind (a Synapse whose supervisor died) goes too.
        alive = {(p.pid, p.started_at) for p in procs.snapshot().values()}
        for pid, _ in started & alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def health_ok(base_url: str) -> bool:
    """True when ``/health`` answers OK."""
    try:
        return httpx.get(f"{base_url}/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a file, or a note that it does not exist."""
    if not path.is_file():
        return f"({path} not written)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return f"--- {path}\n" + "\n".join(text[-lines:])
