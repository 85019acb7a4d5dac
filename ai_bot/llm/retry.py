"""When to try a failed model call again, and after how long.

Pure, with the random source injected, so the schedule is unit-testable: exponential backoff
with jitter, except that a server's Retry-After is honoured exactly (waiting less would only
earn another 429) unless it is longer than we are willing to keep the user waiting.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hearth.ai_bot.llm.config import RetrySettings


@dataclass
class RetryPolicy:
    """Delays between attempts of one call."""

    settings: RetrySettings
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int, retry_after_s: float | None) -> float | None:
        """Seconds to wait after the ``failures``-th failed attempt, or None to give up."""
        if failures >= self.settings.max_attempts:
            return None
        if retry_after_s is not None:
            if retry_after_s > self.settings.max_retry_after_s:
                return None
            return retry_after_s
        ceiling = min(self.settings.max_delay_s,
                      self.settings.base_delay_s * 2.0 ** (failures - 1))
        # "Equal jitter": at least half the exponential step, so retries still back off, and a
        # random rest, so many bots failing together do not retry in lockstep.
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)
