"""The bot process: builds its pieces, wires nio's event callbacks to them, runs, stops.

Sync runs in a loop that backs off and never gives up (``sync_loop``). Event callbacks only
spawn tasks (``tasks``); what each event means is ``dispatch``'s job, answers in flight are
``records``, encryption chores ``matrix.encryption``. Answers run concurrently and share the
account's one edit scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from nio import (
    InviteMemberEvent,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RedactionEvent,
    RoomMessageText,
)

from hearth.ai_bot import strings
from hearth.ai_bot.answer import Answerer, Counter
from hearth.ai_bot.budget.types import Ledger
from hearth.ai_bot.config import BotConfig
from hearth.ai_bot.dispatch import Dispatcher
from hearth.ai_bot.invites import Invites
from hearth.ai_bot.links import AnswerLinks
from hearth.ai_bot.llm.catalogue import Catalogue
from hearth.ai_bot.llm.types import ModelProvider
from hearth.ai_bot.matrix.client import MatrixClient
from hearth.ai_bot.matrix.crosssign import cross_sign_own_device
from hearth.ai_bot.matrix.encryption import Encryption
from hearth.ai_bot.permissions import AccessPolicy
from hearth.ai_bot.records import Records
from hearth.ai_bot.room_settings import RoomSettingsCache
from hearth.ai_bot.streaming.scheduler import EditScheduler, Observer
from hearth.ai_bot.sync_loop import SyncLoop
from hearth.ai_bot.tasks import Tasks
from hearth.ai_bot.tools.builtins import builtin_registry

logger = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 15.0


class Bot:
    """The running bot: its pieces, and the event callbacks that feed them."""

    def __init__(
        self, config: BotConfig, matrix: MatrixClient, *, password: str,
        provider: ModelProvider, catalogue: Catalogue, ledger: Ledger | None,
        policy: AccessPolicy, counter_for: Callable[[str], Counter],
        observer: Observer | None = None, links: AnswerLinks | None = None,
    ) -> None:
        self.matrix = matrix
        self.stopping = asyncio.Event()
        self.tasks = Tasks()
        self.scheduler = EditScheduler(matrix, config.streaming, observer=observer)
        answerer = Answerer(
            config, provider=provider, catalogue=catalogue, ledger=ledger,
            scheduler=self.scheduler, reader=matrix,
            tools=builtin_registry(config.tools.search_scan_events),
            bot_user_id=matrix.user_id, display_name=matrix.display_name,
            counter_for=counter_for,
        )
        self.dispatcher = Dispatcher(
            config, matrix, answerer=answerer, records=Records(matrix, links),
            settings=RoomSettingsCache(matrix), policy=policy, catalogue=catalogue,
            ledger=ledger, tasks=self.tasks,
        )
        self.invites = Invites(matrix, policy, matrix.user_id)

        async def cross_sign() -> str:
            return await cross_sign_own_device(matrix, config.data_dir, password)

        self.encryption = Encryption(
            matrix.nio, matrix, max_event_age_s=config.context.max_event_age_s,
            on_text=lambda room, event: self._spawn(self.dispatcher.on_text(room, event)),
            cross_sign=cross_sign if config.encryption else None,
        )
        self.sync = SyncLoop(matrix, [self.encryption.after_sync], self.stopping)
        self._register_callbacks()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        if self.stopping.is_set():
            coro.close()
            return
        self.tasks.spawn(coro)

    def _register_callbacks(self) -> None:
        add = self.matrix.nio.add_event_callback
        dispatcher = self.dispatcher
        add(self._cb(dispatcher.on_text), RoomMessageText)
        add(self._cb(self.encryption.on_undecryptable), MegolmEvent)
        add(self._cb(dispatcher.on_redaction), RedactionEvent)
        add(self._cb(dispatcher.on_reaction), ReactionEvent)
        add(self._cb(self._on_invite), InviteMemberEvent)  # type: ignore[arg-type]

    def _cb(self, handler: Callable[[MatrixRoom, Any], Coroutine[Any, Any, Any]]
            ) -> Callable[[MatrixRoom, Any], Awaitable[None]]:
        async def callback(room: MatrixRoom, event: Any) -> None:
            self._spawn(handler(room, event))
        return callback

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        await self.invites.on_invite(room.room_id, event.sender, str(event.state_key),
                                     str(event.membership))

    async def run(self) -> None:
        """Run until ``stop()``; then finish or mark the answers in flight."""
        loop = asyncio.get_running_loop()
        scheduler_task = loop.create_task(self.scheduler.run())
        sync_task = loop.create_task(self.sync.run())
        logger.info("bot %s running (device %s)", self.matrix.user_id, self.matrix.nio.device_id)
        print(f"ai bot ready: {self.matrix.user_id}", flush=True)
        await self.stopping.wait()
        sync_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sync_task
        await self.shutdown()
        scheduler_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await scheduler_task

    async def shutdown(self, timeout_s: float = SHUTDOWN_TIMEOUT_S) -> None:
        """Cancel the answers in flight: each ends with a visible marker (final edit)."""
        await self.dispatcher.stop_answers(timeout_s)
        await self.scheduler.shutdown(strings.REASON_SHUTDOWN, timeout_s)

    def stop(self) -> None:
        self.stopping.set()
