"""What the supervisor unit tests share: a clock they move by hand, and child commands."""

from __future__ import annotations

import sys
from pathlib import Path

from hearth.supervisor import ProcessSpec, Supervisor
from tests.harness.clocks import ManualClock

WALL_START = 1_800_000_000.0  # the Unix time the fake clock starts at


class FakeClock(ManualClock):
    """The test's monotonic seconds, and the Unix time that goes with them."""

    def wall(self) -> float:
        """The matching Unix time."""
        return WALL_START + self.seconds


def python(code: str) -> list[str]:
    """Run ``code`` with this interpreter."""
    return [sys.executable, "-c", code]


SLEEPER = python("import time; time.sleep(60)")
CRASHER = python("print('cannot reach the ledger', flush=True); raise SystemExit(3)")


def supervisor_with(clock: FakeClock, status_dir: Path | None = None) -> Supervisor:
    """A supervisor on ``clock``."""
    return Supervisor(status_dir=status_dir, clock=clock, wall_clock=clock.wall)


def optional_crasher(tmp_path: Path) -> ProcessSpec:
    """An optional process that exits with status 3 at once, every time."""
    return ProcessSpec("bot", CRASHER, tmp_path / "bot.out", optional=True)


def supervisor_after_one_bot_failure(tmp_path: Path, clock: FakeClock,
                                     status_dir: Path | None = None) -> Supervisor:
    """An essential sleeper running, and the optional crasher restarted once and exited
    again: waiting 2 s to be restarted a second time."""
    sup = supervisor_with(clock, status_dir)
    sup.start(ProcessSpec("synapse", SLEEPER, tmp_path / "synapse.out"))
    sup.start(optional_crasher(tmp_path))
    bot = sup.running[1]
    clock.advance(1)
    sup.watch_once()
    bot.process.wait()
    sup.watch_once()
    return sup
