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


def _self_s() -> float:
    """CPU seconds of this process and the children it has reaped."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _tree_ticks(roots: Collection[int]) -> dict[tuple[int, int], int]:
    """CPU ticks of each live process under ``roots``, keyed by (pid, start time)."""
    return {(p.pid, p.started_at): p.cpu_ticks for p in procs.tree(roots)} if roots else {}


class OtherLoad:
    """The share of the machine's CPU that went to processes other than ours.

    Ours are this process, the children it reaped, and the live process trees under the pids
    ``roots`` returns (the servers, whatever they started, their database backends).
    Approximate: a process of ours that ends mid-measurement and is reaped by someone else
    (a database backend) has its last CPU counted as someone else's.
    """

    def __init__(self, roots: Callable[[], Collection[int]] = frozenset) -> None:
        self._roots = roots
        self._machine = (0.0, 0.0)
        self._self = 0.0
        self._tree: dict[tuple[int, int], int] = {}
        self._other_s = 0.0
        self._elapsed_s = 0.0

    def start(self) -> None:
        self._machine, self._self = _machine_s(), _self_s()
        self._tree = _tree_ticks(self._roots())

    def stop(self) -> float:
        """The share (0..1) since ``start``; NaN if no time passed."""
        busy, total = _machine_s()
        tree = _tree_ticks(self._roots())
        live = sum(ticks - self._tree.get(key, 0) for key, ticks in tree.items())
        own = (_self_s() - self._self) + live / TICK
        elapsed = total - self._machine[1]
        if elapsed <= 0:
            return math.nan
        other = max(busy - self._machine[0] - own, 0.0)
        self._other_s += other
        self._elapsed_s += elapsed
        return other / elapsed

    @property
    def overall(self) -> float:
        """The share over every start/stop span so far; NaN before the first."""
        return self._other_s / self._elapsed_s if self._elapsed_s > 0 else math.nan
