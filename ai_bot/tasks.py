"""The bot's background tasks: kept track of, failures logged, ended within a time limit.

Event callbacks must return at once (they run inside nio's sync), so each one spawns its work
here; a task that fails is logged instead of vanishing silently, and shutdown can wait for the
tasks that matter without hanging forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import Any

logger = logging.getLogger(__name__)


class Tasks:
    """The tasks spawned by the bot that are still running."""

    def __init__(self) -> None:
        self.running: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self.running.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("task failed", exc_info=task.exception())


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]], timeout_s: float) -> None:
    """Cancel ``tasks`` and give them up to ``timeout_s`` to finish their cleanup (e.g. a final
    edit); those still running then are left to the event loop's end."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=timeout_s)
