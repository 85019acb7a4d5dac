"""The supervisor's view of its processes, as a file `hearth status` can read.

``hearth run`` and ``hearth status`` are different processes; the supervisor replaces
``<data>/supervisor-status.json`` (mode 0600, atomically) whenever a process starts, exits or
is restarted, so status never sees half a file and needs no connection to the supervisor.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from hearth.private_files import write_private

STATUS_FILE = "supervisor-status.json"

ProcessState = Literal["running", "restarting", "stopped"]


@dataclass(frozen=True)
class ProcessStatus:
    """One supervised process as the supervisor last saw it."""

    name: str
    state: ProcessState
    pid: int | None
    optional: bool
    restarts: int
    last_exit_code: int | None
    next_restart_at: float | None  # Unix time of the next attempt while ``restarting``


@dataclass(frozen=True)
class SupervisorStatus:
    """The whole file: who wrote it, when, and each process."""

    supervisor_pid: int
    updated_at: float
    processes: tuple[ProcessStatus, ...]

    @property
    def supervisor_running(self) -> bool:
        """True while the ``hearth run`` that wrote the file is alive."""
        try:
            os.kill(self.supervisor_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def as_json(self) -> dict[str, Any]:
        """The file's content, with times also in ISO 8601 for people reading ``--json``."""
        return {
            "supervisor_pid": self.supervisor_pid,
            "supervisor_running": self.supervisor_running,
            "updated_at": iso_time(self.updated_at),
            "processes": [
                {**asdict(p), "next_restart_at": iso_time(p.next_restart_at)}
                for p in self.processes
            ],
        }


def iso_time(value: float | None) -> str | None:
    """UTC ISO 8601 with seconds, or None."""
    if value is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))


def write_status(data_dir: Path, status: SupervisorStatus) -> None:
    """Replace the status file in ``data_dir``."""
    payload = {
        "supervisor_pid": status.supervisor_pid,
        "updated_at": status.updated_at,
        "processes": [asdict(p) for p in status.processes],
    }
    write_private(data_dir / STATUS_FILE, json.dumps(payload, indent=2) + "\n")


def read_status(data_dir: Path) -> SupervisorStatus | None:
    """The last status written in ``data_dir``, or None when no ``hearth run`` wrote one."""
    path = data_dir / STATUS_FILE
    if not path.is_file():
        return None
    loaded = json.loads(path.read_text(encoding="utf-8"))
    return SupervisorStatus(
        supervisor_pid=int(loaded["supervisor_pid"]),
        updated_at=float(loaded["updated_at"]),
        processes=tuple(ProcessStatus(**p) for p in loaded["processes"]),
    )
