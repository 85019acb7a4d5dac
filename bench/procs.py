"""The process trees of the servers, read from /proc (Linux)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Proc:
    """What /proc/<pid>/stat says about one process."""

    pid: int
    ppid: int
    cpu_ticks: int  # utime + stime + cutime + cstime: its own CPU and that of reaped children
    started_at: int  # clock ticks after boot; with the pid, names the process uniquely


def _read(entry: Path) -> Proc | None:
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # fields[0] is field 3 (state) of proc(5)
    return Proc(int(entry.name), int(fields[1]), sum(int(f) for f in fields[11:15]),
                int(fields[19]))


def snapshot() -> dict[int, Proc]:
    """Every process on the machine now."""
    procs = (_read(e) for e in Path("/proc").iterdir() if e.name.isdigit())
    return {p.pid: p for p in procs if p is not None}


def tree(roots: Collection[int], procs: dict[int, Proc] | None = None) -> list[Proc]:
    """The processes in ``roots`` and all their descendants."""
    procs = snapshot() if procs is None else procs
    children: dict[int, list[int]] = {}
    for proc in procs.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found: list[Proc] = []
    pending = [pid for pid in roots if pid in procs]
    while pending:
        pid = pending.pop()
        found.append(procs[pid])
        pending += children.get(pid, [])
    return found
