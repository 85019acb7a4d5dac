"""Sync with the homeserver until stopped, never giving up.

Network errors and homeserver refusals (Synapse restarting, M_LIMIT_EXCEEDED) only pause the
loop, with a delay that doubles up to ``max_delay_s``; a successful sync resets it. What must
happen after every sync (uploading keys, retrying undecryptable events) runs as hooks, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from hearth.ai_bot.matrix.protocols import Syncer

logger = logging.getLogger(__name__)

AfterSync = Callable[[], Awaitable[None]]


class SyncLoop:
    """The bot's one sync loop; ``stopping`` ends it (also during a back-off pause)."""

    def __init__(self, syncer: Syncer, after_sync: Sequence[AfterSync], stopping: asyncio.Event,
                 *, first_delay_s: float = 1.0, max_delay_s: float = 30.0,
                 pause: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.syncer = syncer
        self.after_sync = list(after_sync)
        self.stopping = stopping
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.pause = pause or self._until_stopped

    async def _until_stopped(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    async def run(self) -> None:
        """Sync until stopped: the first sync at once with full state, then long polls."""
        delay = self.first_delay_s
        first = True
        while not self.stopping.is_set():
            try:
                await self.syncer.sync_once(first)
                for hook in self.after_sync:
                    await hook()
                first = False
                delay = self.first_delay_s
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("sync failed (%s: %s); retrying in %.0fs",
                               type(exc).__name__, exc, delay)
                await self.pause(delay)
                delay = min(delay * 2, self.max_delay_s)
