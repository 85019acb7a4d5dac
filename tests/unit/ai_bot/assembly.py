"""The bot's answering pieces wired as ``app.Bot`` wires them, around the fake Matrix client
and the fake model server: what the dispatch and answer tests drive."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from nio import RoomMessageText

from devtools.fake_openai import FakeOpenAI, Reply
from hearth.ai_bot.answer import Answerer
from hearth.ai_bot.budget.types import Ledger
from hearth.ai_bot.config import BotConfig, StreamingConfig
from hearth.ai_bot.dispatch import Dispatcher
from hearth.ai_bot.llm.catalogue import Catalogue
from hearth.ai_bot.llm.tokens import TokenCounter
from hearth.ai_bot.permissions import AccessPolicy, AiAccess, RoleUnknown
from hearth.ai_bot.records import LinkStore, Records
from hearth.ai_bot.room_settings import RoomSettingsCache
from hearth.ai_bot.streaming.scheduler import EditScheduler
from hearth.ai_bot.tasks import Tasks, cancel_and_wait
from hearth.ai_bot.tools.builtins import builtin_registry
from tests.harness.calls import eventually
from tests.unit.ai_bot.fake_matrix import ALICE, BOB, BOT, FakeMatrix, Sent
from tests.unit.ai_bot.llm.support import provider_for

# Quick edits so a streamed answer shows several versions within a test.
CADENCE = StreamingConfig(min_edit_interval_s=0.05, max_edits_per_second=100)
SLOW = Reply(text="word " * 60, tokens_per_second=15)  # about four seconds of streaming
MEMBER = AiAccess(role="member", use_ai=True, models=("*",))
NO_AI = AiAccess(role="guest", use_ai=False, models=())


def static_policy(roles: Mapping[str, AiAccess] | None = None,
                  unknown: Collection[str] = ()) -> AccessPolicy:
    """The access policy as a table: ``roles`` by user (MEMBER otherwise); the users in
    ``unknown`` get a failed lookup, as when the homeserver cannot answer."""
    table = dict(roles or {})

    async def lookup(user_id: str) -> AiAccess:
        if user_id in unknown:
            raise RoleUnknown("server_error", "HTTP 500")
        return table.get(user_id, MEMBER)

    return AccessPolicy(lookup)


@dataclass
class Pieces:
    matrix: FakeMatrix
    scheduler: EditScheduler
    answerer: Answerer
    dispatcher: Dispatcher
    tasks: Tasks


@asynccontextmanager
async def bot_pieces(model: FakeOpenAI, *, matrix: FakeMatrix | None = None,
                     links: LinkStore | None = None, policy: AccessPolicy | None = None,
                     ledger: Ledger | None = None, cadence: StreamingConfig = CADENCE,
                     **config: Any) -> AsyncIterator[Pieces]:
    """The pieces, with the edit scheduler running; stopped afterwards."""
    matrix = matrix or FakeMatrix()
    bot_config = BotConfig.model_validate({"displayname": "Hearth AI", "encryption": False,
                                           "model": {"default": "gpt-4o-mini"}, **config})
    catalogue = Catalogue.load()
    policy = policy or static_policy()
    scheduler = EditScheduler(matrix, cadence)
    tasks = Tasks()
    async with provider_for(model) as provider:
        answerer = Answerer(
            bot_config, provider=provider, catalogue=catalogue, ledger=ledger,
            scheduler=scheduler, reader=matrix, tools=builtin_registry(),
            bot_user_id=matrix.user_id, display_name=matrix.display_name,
            counter_for=lambda name: TokenCounter(name, None),
        )
        dispatcher = Dispatcher(
            bot_config, matrix, answerer=answerer, records=Records(matrix, links),
            settings=RoomSettingsCache(matrix), policy=policy, catalogue=catalogue,
            ledger=ledger, tasks=tasks,
        )
        running = asyncio.get_running_loop().create_task(scheduler.run())
        try:
            yield Pieces(matrix, scheduler, answerer, dispatcher, tasks)
        finally:
            # Answers first, while the scheduler still runs to deliver their final edits.
            await cancel_and_wait(list(tasks.running), timeout_s=10)
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running


def mention(body: str) -> dict[str, Any]:
    """A message addressing the bot by name and m.mentions."""
    return {"msgtype": "m.text", "body": f"Hearth AI: {body}",
            "m.mentions": {"user_ids": [BOT]}}


async def final_answer(matrix: FakeMatrix, prompt_id: str) -> Sent:
    """The bot's answer to ``prompt_id`` once its final edit is out."""
    def reply() -> Sent | None:
        return next((m for m in matrix.messages() if (m.content.get("m.relates_to") or {})
                     .get("m.in_reply_to", {}).get("event_id") == prompt_id), None)

    async def probe() -> Sent | None:
        found = reply()
        return found if found is not None and matrix.is_final(found.event_id) else None

    found = await eventually(probe, lambda s: s is not None, what="final answer")
    assert found is not None
    return found


async def ask(bot: Pieces, text: str) -> tuple[RoomMessageText, Sent]:
    """Alice asks the bot ``text`` by name in a group room: her prompt, the final answer."""
    prompt = bot.matrix.post(ALICE, mention(text))
    await bot.dispatcher.on_text(bot.matrix.room(ALICE, BOB), prompt)
    return prompt, await final_answer(bot.matrix, prompt.event_id)


async def first_visible(matrix: FakeMatrix) -> Sent:
    """The bot's first message, once it is visible (the answer may still be streaming)."""
    async def probe() -> list[Sent]:
        return matrix.messages()
    return (await eventually(probe, bool, what="first answer event"))[0]
