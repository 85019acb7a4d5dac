"""The prompt → answer link survives a bot restart: editing an older prompt or reacting 🔁 to
an older answer still regenerates that answer in place."""

from __future__ import annotations

import asyncio

import pytest

from devtools.fake_openai import FakeOpenAI, Reply
from tests.harness.ai_bot import (
    RunningBot,
    ask,
    dm_ready,
    edit,
    react,
    shown_body,
    watch_redone,
)
from tests.harness.clients import ClientFactory

pytestmark = pytest.mark.integration


async def test_ai_bot_regenerates_answers_given_before_restart(
    clients: ClientFactory, spare_bot: RunningBot, fake_model: FakeOpenAI
) -> None:
    """Two answers, a bot restart, then an edit of the first prompt and a 🔁 on the second
    answer: each answer is redone in its own event, and nothing is answered twice."""
    bot = spare_bot.user_id
    alice = await clients.user("alice")
    room_id, watcher = await dm_ready(alice, bot, fake_model, Reply(text="Tea is a drink."),
                                      Reply(text="Rain is water."))
    tea_prompt, tea = await ask(alice, watcher, room_id, bot, "what is tea?")
    _, rain = await ask(alice, watcher, room_id, bot, "what is rain?")
    (tea_answer,), (rain_answer,) = tea.messages, rain.messages

    await asyncio.to_thread(spare_bot.process.stop)
    await asyncio.to_thread(spare_bot.process.start)

    fake_model.push(Reply(text="Coffee is a drink too."))
    await edit(alice, room_id, tea_prompt, "what is coffee?")
    edited = await watch_redone(watcher, room_id, bot, tea_answer)
    assert edited.messages == [] and edited.finals_of(tea_answer) == ["Coffee is a drink too."]
    assert fake_model.requests[-1].messages[-1]["content"].endswith("what is coffee?")

    fake_model.push(Reply(text="Rain is falling water."))
    await react(alice, room_id, rain_answer, "🔁")
    redone = await watch_redone(watcher, room_id, bot, rain_answer)
    assert redone.messages == [] and redone.finals_of(rain_answer) == [
        "Rain is falling water."]
    assert fake_model.requests[-1].messages[-1]["content"].endswith("what is rain?")

    assert await shown_body(alice, room_id, tea_answer) == "Coffee is a drink too."
    assert await shown_body(alice, room_id, rain_answer) == "Rain is falling water."
    assert len(fake_model.requests) == 4, "the restart must not answer old prompts again"
