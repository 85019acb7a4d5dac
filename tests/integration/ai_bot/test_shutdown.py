"""Stopping the bot (SIGTERM) while it streams an answer ends that answer visibly."""

from __future__ import annotations

import asyncio

import pytest

from devtools.fake_openai import FakeOpenAI, Reply
from tests.harness.ai_bot import RunningBot, dm_ready, shown_body, watch_answer, watch_redone
from tests.harness.clients import ClientFactory

pytestmark = pytest.mark.integration

WORDS = [f"w{i}" for i in range(150)]  # 15 s of streaming: SIGTERM lands mid-answer
MARKER = "⚠️ *Answer interrupted: the assistant was shut down (react with 🔁 to ask again).*"


async def test_ai_bot_sigterm_mid_answer_marks_it_interrupted(
    clients: ClientFactory, spare_bot: RunningBot, fake_model: FakeOpenAI
) -> None:
    """SIGTERM mid-answer: the bot sends a final edit with the text so far and a marker, then
    exits cleanly."""
    bot = spare_bot.user_id
    alice = await clients.user("alice")
    room_id, watcher = await dm_ready(alice, bot, fake_model,
                                      Reply(text=" ".join(WORDS), tokens_per_second=10))
    prompt = await alice.client.send_text(room_id, "a long one, please")
    started = await watch_answer(watcher, room_id, bot, prompt_id=prompt,
                                 done=lambda view: len(view.events) >= 2)  # a live edit too
    (answer_id,) = started.messages
    assert started.live(answer_id)
    status = await asyncio.to_thread(spare_bot.process.stop)
    assert status == 0, spare_bot.process.log()
    ended = await watch_redone(watcher, room_id, bot, answer_id, timeout=10)
    (final,) = ended.finals_of(answer_id)
    text, _, marker = final.partition(" \n\n")
    assert marker == MARKER
    assert text.split() == WORDS[:len(text.split())] and len(text.split()) < len(WORDS)
    assert await shown_body(alice, room_id, answer_id) == final
