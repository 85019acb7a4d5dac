"""How much CPU other processes take while we measure: the noise a shared machine adds."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _machine_s() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine since boot (all CPUs)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    busy = user + nice + system + irq + softirq + steal
    return busy / TICK, (busy + idle + iowait) / TICK


def _groups_s(pgids: Collection[int]) -> float:
    """CPU seconds of the live processes in these process groups, with their reaped children."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # fields[0] is the state, field 3 of stat(5)
        if int(fields[2]) in pgids:
            ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / TICK


def _own_s(pgids: Collection[int]) -> float:
    """CPU seconds of this process, its reaped children and the given live process groups."""
    times = os.times()
    reaped = times.user + times.system + times.children_user + times.children_system
    return reaped + (_groups_s(pgids) if pgids else 0.0)


class OtherLoad:
    """The share of the machine's CPU that went to processes other than ours.

    Ours are this process, its reaped children, and the live process groups ``groups``
    returns (the running servers, each started in its own session).
    """

    def __init__(self, groups: Callable[[], Collection[int]] = frozenset) -> None:
        self._groups = groups
        self._start = (0.0, 0.0, 0.0)

    def start(self) -> None:
        self._start = (*_machine_s(), _own_s(self._groups()))

    def stop(self) -> float:
        """The share (0..1) since ``start``; NaN if no time passed."""
        busy, total = _machine_s()
        own = _own_s(self._groups())
        elapsed = total - self._start[1]
        if elapsed <= 0:
            return math.nan
        return max((busy - self._start[0]) - (own - self._start[2]), 0.0) / elapsed
