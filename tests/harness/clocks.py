"""A clock the test moves by hand, so timing logic is tested without sleeping or racing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ManualClock:
    """Monotonic seconds that change only through ``advance``."""

    seconds: float = 100.0

    def __call__(self) -> float:
        return self.seconds

    def now(self) -> float:
        """The same reading, for code that asks ``clock.now()``."""
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
