"""Start, watch and stop the processes of a local deployment.

Each process logs to its own file in ``<data>/logs``. Start-up is all or nothing: if one
process dies or never answers, the ones already started are stopped and the caller gets
the reason and the tail of that process's log. Once everything is up, a process that dies
is restarted with a growing back-off, up to a limit.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

logger = logging.getLogger("hearth.supervisor")

MAX_RESTARTS = 5


class StartError(RuntimeError):
    """A process could not be brought up; the message says which and why."""


@dataclass
class ProcessSpec:
    """How to start one process and how to tell that it is ready."""

    name: str
    argv: Sequence[str]
    log_file: Path
    health_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    ready_timeout_s: float = 120.0


@dataclass
class Running:
    """A started process and its restart book-keeping."""

    spec: ProcessSpec
    process: subprocess.Popen[bytes]
    restarts: int = 0
    next_restart_at: float = 0.0


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on ``host:port`` (or we may not bind it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file, for an error message."""
    if not path.is_file():
        return "(no log written)"
    content = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(content[-lines:])


class Supervisor:
    """Owns the child processes of one ``hearth run``."""

    def __init__(self) -> None:
        self._running: list[Running] = []
        self._stopping = False

    @property
    def running(self) -> tuple[Running, ...]:
        """The processes started so far."""
        return tuple(self._running)

    def _spawn(self, spec: ProcessSpec) -> subprocess.Popen[bytes]:
        spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = open(spec.log_file, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            return subprocess.Popen(
                list(spec.argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **spec.env},
                start_new_session=True,  # Ctrl-C reaches us only; we stop children in order
            )
        finally:
            log.close()

    def start(self, spec: ProcessSpec) -> None:
        """Start ``spec`` and wait until it is healthy; on failure stop everything started."""
        process = self._spawn(spec)
        self._running.append(Running(spec=spec, process=process))
        try:
            self._wait_ready(spec, process)
        except StartError:
            self.stop_all()
            raise

    def _wait_ready(self, spec: ProcessSpec, process: subprocess.Popen[bytes]) -> None:
        if spec.health_url is None:
            time.sleep(0.5)
            if process.poll() is not None:
                raise StartError(self._died_message(spec, process.returncode))
            return
        deadline = time.monotonic() + spec.ready_timeout_s
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise StartError(self._died_message(spec, process.returncode))
                try:
                    if client.get(spec.health_url).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        raise StartError(
            f"{spec.name} did not answer on {spec.health_url} within "
            f"{spec.ready_timeout_s:.0f}s; last lines of {spec.log_file}:\n{tail(spec.log_file)}"
        )

    @staticmethod
    def _died_message(spec: ProcessSpec, code: int | None) -> str:
        return (
            f"{spec.name} exited with status {code} during start-up; "
            f"last lines of {spec.log_file}:\n{tail(spec.log_file)}"
        )

    def watch_once(self) -> None:
        """Restart processes that died, with back-off; give up after ``MAX_RESTARTS``."""
        now = time.monotonic()
        for entry in self._running:
            code = entry.process.poll()
            if code is None or self._stopping:
                continue
            if entry.restarts >= MAX_RESTARTS:
                raise StartError(
                    f"{entry.spec.name} keeps exiting (status {code}, restarted "
                    f"{entry.restarts} times); see {entry.spec.log_file}"
                )
            if entry.next_restart_at == 0.0:
                entry.next_restart_at = now + min(2 ** entry.restarts, 30)
                logger.warning("%s exited with status %s; restarting", entry.spec.name, code)
            elif now >= entry.next_restart_at:
                entry.process = self._spawn(entry.spec)
                entry.restarts += 1
                entry.next_restart_at = 0.0

    def stop_all(self, timeout_s: float = 20.0) -> None:
        """Stop children in reverse start order: SIGTERM, then SIGKILL after ``timeout_s``."""
        self._stopping = True
        for entry in reversed(self._running):
            if entry.process.poll() is None:
                entry.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for entry in reversed(self._running):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                entry.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                entry.process.kill()
                entry.process.wait()
        self._running.clear()

    def supervise(self, should_stop: Callable[[], bool], interval_s: float = 0.5) -> None:
        """Watch the children until ``should_stop`` says so, then stop them all."""
        try:
            while not should_stop():
                self.watch_once()
                time.sleep(interval_s)
        finally:
            self.stop_all()


def python_module_argv(module: str, *args: str) -> list[str]:
    """Command line that runs ``module`` with the interpreter running us (the virtualenv's)."""
    return [sys.executable, "-m", module, *args]
