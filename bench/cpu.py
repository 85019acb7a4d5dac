"""How much CPU other processes take while we measure: the noise a shared machine adds."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection
from pathlib import Path

from bench import procs

TICK = os.sysconf("SC_CLK_TCK")


def _machine_s() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine since boot (all CPUs)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    busy = user + nice + system + irq + softirq + steal
    return busy / TICK, (busy + idle + iowait) / TICK


def _own_s(roots: Collection[int]) -> float:
    """CPU seconds of this process, its reaped children and the live trees under ``roots``."""
    times = os.times()
    reaped = times.user + times.system + times.children_user + times.children_system
    live = sum(p.cpu_ticks for p in procs.tree(roots)) if roots else 0
    return reaped + live / TICK


class OtherLoad:
    """The share of the machine's CPU that went to processes other than ours.

    Ours are this process, its reaped children, and the live process trees under the pids
    ``roots`` returns (the running servers and whatever they started).
    """

    def __init__(self, roots: Callable[[], Collection[int]] = frozenset) -> None:
        self._roots = roots
        self._start = (0.0, 0.0, 0.0)

    def start(self) -> None:
        self._start = (*_machine_s(), _own_s(self._roots()))

    def stop(self) -> float:
        """The share (0..1) since ``start``; NaN if no time passed."""
        busy, total = _machine_s()
        own = _own_s(self._roots())
        elapsed = total - self._start[1]
        if elapsed <= 0:
            return math.nan
        return max((busy - self._start[0]) - (own - self._start[2]), 0.0) / elapsed
