"""Facts about the machine and software a run was measured on."""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import sqlite3
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from bench import postgres
from bench.options import Engine


@dataclass(frozen=True)
class Machine:
    """Printed above each results table."""

    date: str
    cpus: int
    cpu_model: str
    python: str
    synapse: str
    database: str
    other_load: float = math.nan

    def line(self) -> str:
        text = (f"{self.date}; {self.cpus} CPUs ({self.cpu_model}); Python {self.python}; "
                f"Synapse {self.synapse}; {self.database}")
        if math.isfinite(self.other_load):
            text += (f"; other processes used {self.other_load:.0%} of the machine's CPU "
                     "while measuring")
        return text


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return " ".join(line.split(":", 1)[1].split())
    return platform.processor() or platform.machine()


def _database(engine: Engine) -> str:
    if engine == "postgres":
        return f"PostgreSQL {postgres.server_version()}"
    return f"SQLite {sqlite3.sqlite_version}"


def describe(engine: Engine) -> Machine:
    """The facts of this machine, now."""
    return Machine(
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cpus=len(os.sched_getaffinity(0)),
        cpu_model=_cpu_model(),
        python=platform.python_version(),
        synapse=version("matrix-synapse"),
        database=_database(engine),
    )
