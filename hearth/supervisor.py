"""Start, watch and stop the processes of a local deployment.

Each process logs to its own file in ``<data>/logs``. Start-up of the essential processes
(Synapse and its workers) is all or nothing: if one dies or never answers, the ones already
started are stopped and the caller gets the reason and the tail of that process's log. Once
everything is up, an essential process that dies is restarted with a growing back-off, up to
a limit, and then everything stops. An optional process (the AI bot) never takes the others
down: it is restarted with an exponential, capped back-off for as long as the run lasts, and
its failures are reported in the status file and the metrics instead.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from hearth.private_files import PRIVATE_UMASK
from hearth.supervisor_status import ProcessState, ProcessStatus, SupervisorStatus, write_status

logger = logging.getLogger("hearth.supervisor")

MAX_RESTARTS = 5


class StartError(RuntimeError):
    """A process could not be brought up; the message says which and why."""


@dataclass(frozen=True)
class Backoff:
    """How long to wait before the next restart: doubling from ``initial_s`` up to ``cap_s``;
    a process that stayed up ``reset_after_s`` starts again from ``initial_s``."""

    initial_s: float = 1.0
    cap_s: float = 300.0
    reset_after_s: float = 60.0

    def delay(self, failures: int) -> float:
        """The wait after the ``failures``-th exit in a row (1 for the first)."""
        return float(min(self.initial_s * 2 ** max(failures - 1, 0), self.cap_s))


# Essential processes keep their historical schedule (1, 2, 4, ... 30 s, never reset);
# MAX_RESTARTS bounds them. Optional ones go up to 5 minutes and never give up.
ESSENTIAL_BACKOFF = Backoff(initial_s=1.0, cap_s=30.0, reset_after_s=math.inf)
OPTIONAL_BACKOFF = Backoff(initial_s=1.0, cap_s=300.0, reset_after_s=60.0)


@dataclass
class ProcessSpec:
    """How to start one process, how to tell that it is ready, and whether the deployment
    can do without it (``optional``: restarted forever, never stops the others)."""

    name: str
    argv: Sequence[str]
    log_file: Path
    health_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    ready_timeout_s: float = 120.0
    optional: bool = False


@dataclass
class Running:
    """A started process and its restart book-keeping (times on the supervisor's clock)."""

    spec: ProcessSpec
    process: subprocess.Popen[bytes]
    started_at: float = 0.0
    restarts: int = 0
    failures: int = 0  # exits in a row, for the back-off
    last_exit_code: int | None = None
    next_restart_at: float | None = None  # set while waiting to restart

    @property
    def state(self) -> ProcessState:
        """What the process is doing now."""
        if self.next_restart_at is not None:
            return "restarting"
        return "running" if self.process.poll() is None else "stopped"


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
    """Owns the child processes of one ``hearth run``.

    ``clock`` (monotonic seconds) decides restarts and ``wall_clock`` (Unix time) dates the
    status file; tests pass their own to step through back-offs without sleeping.
    ``status_dir``: where the status file is kept up to date (None: nowhere).
    """

    def __init__(
        self,
        status_dir: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._running: list[Running] = []
        self._stopping = False
        self._status_dir = status_dir
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()  # the metrics thread reads while we change entries

    @property
    def running(self) -> tuple[Running, ...]:
        """The processes started so far."""
        return tuple(self._running)

    def snapshot(self) -> tuple[ProcessStatus, ...]:
        """Each process's state now, for the status file and the metrics."""
        with self._lock:
            now, wall = self._clock(), self._wall_clock()
            return tuple(
                ProcessStatus(
                    name=entry.spec.name,
                    state=entry.state,
                    pid=entry.process.pid if entry.state == "running" else None,
                    optional=entry.spec.optional,
                    restarts=entry.restarts,
                    last_exit_code=entry.last_exit_code,
                    next_restart_at=(None if entry.next_restart_at is None
                                     else wall + max(0.0, entry.next_restart_at - now)),
                )
                for entry in self._running
            )

    def _write_status(self) -> None:
        if self._status_dir is None:
            return
        write_status(self._status_dir, SupervisorStatus(
            supervisor_pid=os.getpid(), updated_at=self._wall_clock(),
            processes=self.snapshot()))

    def _spawn(self, spec: ProcessSpec) -> subprocess.Popen[bytes]:
        # The log, and every file the child makes (database, WAL, logs, media), are private
        # whatever umask we were started with: they hold tokens and password hashes.
        spec.log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        log = os.fdopen(os.open(spec.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
                        "ab")
        try:
            return subprocess.Popen(
                list(spec.argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **spec.env},
                start_new_session=True,  # Ctrl-C reaches us only; we stop children in order
                umask=PRIVATE_UMASK,
            )
        finally:
            log.close()

    def start(self, spec: ProcessSpec) -> None:
        """Start ``spec`` and wait until it is healthy. On failure an essential process stops
        everything started and raises; an optional one is scheduled for a restart."""
        process = self._spawn(spec)
        entry = Running(spec=spec, process=process, started_at=self._clock())
        with self._lock:
            self._running.append(entry)
        self._write_status()
        try:
            self._wait_ready(spec, process)
        except StartError as exc:
            if not spec.optional:
                self.stop_all()
                raise
            logger.warning("%s", exc)
            if process.poll() is None:
                _terminate(process, timeout_s=10.0)
            self._exited(entry, process.returncode, self._clock())

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
        """Restart processes that died, after their back-off. An essential process that keeps
        dying (``MAX_RESTARTS``) raises ``StartError``; an optional one is retried forever."""
        now = self._clock()
        for entry in self._running:
            if self._stopping:
                return
            if entry.next_restart_at is not None:
                if now >= entry.next_restart_at:
                    self._restart(entry, now)
                continue
            code = entry.process.poll()
            if code is not None:
                self._exited(entry, code, now)

    def _exited(self, entry: Running, code: int | None, now: float) -> None:
        spec = entry.spec
        backoff = OPTIONAL_BACKOFF if spec.optional else ESSENTIAL_BACKOFF
        if not spec.optional and entry.restarts >= MAX_RESTARTS:
            raise StartError(
                f"{spec.name} keeps exiting (status {code}, restarted "
                f"{entry.restarts} times); see {spec.log_file}"
            )
        if now - entry.started_at >= backoff.reset_after_s:
            entry.failures = 0  # it had been up a good while: this is a new problem
        with self._lock:
            entry.failures += 1
            entry.last_exit_code = code
            delay = backoff.delay(entry.failures)
            entry.next_restart_at = now + delay
        logger.warning(
            "%s exited with status %s; restarting in %.0fs", spec.name, code, delay,
            extra={"fields": {"event": "process_exited", "process": spec.name,
                              "exit_code": code, "optional": spec.optional,
                              "restarts": entry.restarts, "restart_in_s": delay}},
        )
        self._write_status()

    def _restart(self, entry: Running, now: float) -> None:
        process = self._spawn(entry.spec)
        with self._lock:
            entry.process = process
            entry.started_at = now
            entry.restarts += 1
            entry.next_restart_at = None
        logger.info(
            "restarted %s (pid %s, restart %d)", entry.spec.name, process.pid, entry.restarts,
            extra={"fields": {"event": "process_restarted", "process": entry.spec.name,
                              "pid": process.pid, "restarts": entry.restarts,
                              "optional": entry.spec.optional}},
        )
        self._write_status()

    def stop_all(self, timeout_s: float = 20.0) -> None:
        """Stop children in reverse start order: SIGTERM, then SIGKILL after ``timeout_s``."""
        self._stopping = True
        for entry in reversed(self._running):
            entry.next_restart_at = None
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
        self._write_status()
        with self._lock:
            self._running.clear()

    def supervise(self, should_stop: Callable[[], bool], interval_s: float = 0.5) -> None:
        """Watch the children until ``should_stop`` says so, then stop them all."""
        try:
            while not should_stop():
                self.watch_once()
                time.sleep(interval_s)
        finally:
            self.stop_all()


def _terminate(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def python_module_argv(module: str, *args: str) -> list[str]:
    """Command line that runs ``module`` with the interpreter running us (the virtualenv's)."""
    return [sys.executable, "-m", module, *args]
