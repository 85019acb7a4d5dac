"""The answer follows its prompt: an edit regenerates it, a redaction cancels it, 🔁 redoes it."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.fake_openai import FakeOpenAI, Reply
from tests.harness.ai_bot import ask, dm_ready, edit, react, shown_body, watch_answer, watch_redone
from tests.harness.clients import ClientFactory

pytestmark = pytest.mark.integration

# 25 s of streaming: the redaction lands mid-answer however loaded the machine is.
SLOW = " ".join(f"word{i}" for i in range(200))


async def test_ai_bot_edited_prompt_gets_new_answer_in_place(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """Editing the question turns the bot's answer into the answer to the new question."""
    alice = await clients.user("alice")
    room_id, watcher = await dm_ready(alice, ai_bot, fake_model,
                                      Reply(text="Paris is the capital of France."))
    prompt, first = await ask(alice, watcher, room_id, ai_bot, "capital of France?")
    (answer_id,) = first.messages
    fake_model.push(Reply(text="Berlin is the capital of Germany.", tokens_per_second=30))
    await edit(alice, room_id, prompt, "capital of Germany?")
    again = await watch_redone(watcher, room_id, ai_bot, answer_id, prompt_id=prompt)
    assert again.messages == [], "the edit must not start a second answer message"
    assert again.finals_of(answer_id) == ["Berlin is the capital of Germany."]
    assert await shown_body(alice, room_id, answer_id) == "Berlin is the capital of Germany."
    asked = fake_model.requests[-1].messages
    assert asked[-1]["content"].endswith("capital of Germany?")
    assert not any("France" in str(m["content"]) for m in asked)


async def test_ai_bot_redacted_prompt_cancels_answer_in_flight(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """Redacting the question mid-answer ends the answer with a visible marker, then silence."""
    alice = await clients.user("alice")
    room_id, watcher = await dm_ready(alice, ai_bot, fake_model,
                                      Reply(text=SLOW, tokens_per_second=8))
    prompt = await alice.client.send_text(room_id, "tell me a long story")
    started = await watch_answer(watcher, room_id, ai_bot, prompt_id=prompt,
                                 done=lambda view: bool(view.messages))
    (answer_id,) = started.messages
    await alice.client.redact(room_id, prompt, reason="never mind")
    ended = await watch_redone(watcher, room_id, ai_bot, answer_id, timeout=10)
    (final,) = ended.finals_of(answer_id)
    assert final.startswith("word0") and "word199" not in final
    assert final.endswith("⚠️ *Answer interrupted: the question was withdrawn.*")

    def bot_touches_answer(response: dict[str, Any]) -> bool:
        timeline = response.get("rooms", {}).get("join", {}).get(room_id, {})
        return any(e.get("sender") == ai_bot
                   for e in timeline.get("timeline", {}).get("events", []))

    with pytest.raises(TimeoutError):
        await watcher.wait_for(bot_touches_answer, timeout=2)
    assert await shown_body(alice, room_id, answer_id) == final


async def test_ai_bot_regenerate_reaction_replaces_answer(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """A 🔁 reaction on an answer asks the model again and edits the answer to the new one."""
    alice = await clients.user("alice")
    room_id, watcher = await dm_ready(alice, ai_bot, fake_model, Reply(text="First take."))
    prompt, first = await ask(alice, watcher, room_id, ai_bot, "name a colour")
    (answer_id,) = first.messages
    fake_model.push(Reply(text="Second take: teal.", tokens_per_second=30))
    await react(alice, room_id, answer_id, "🔁")
    again = await watch_redone(watcher, room_id, ai_bot, answer_id, prompt_id=prompt)
    assert again.messages == []
    assert again.finals_of(answer_id) == ["Second take: teal."]
    assert await shown_body(alice, room_id, answer_id) == "Second take: teal."
    assert len(fake_model.requests) == 2
    assert fake_model.requests[1].messages == fake_model.requests[0].messages
