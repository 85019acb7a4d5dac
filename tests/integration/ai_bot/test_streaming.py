"""The bot streams answers as a first event, live edits and a final edit (real Synapse)."""

from __future__ import annotations

import pytest
from mautrix.types import EventType

from devtools.fake_openai import FakeOpenAI, Reply
from tests.harness.ai_bot import LIVE, collect_answer, dm_ready, group_ready
from tests.harness.clients import ClientFactory
from tests.harness.sync import SyncWatcher

pytestmark = pytest.mark.integration

ANSWER = " ".join(f"word{i}" for i in range(40)) + "\n\n**done**"


async def test_ai_bot_mention_streams_first_event_edits_and_final(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """A mention in a group room gets a reply event, m.replace live edits, then a final edit."""
    alice, bob = await clients.user("alice"), await clients.user("bob")
    room_id = await group_ready(alice, bob, ai_bot, fake_model,
                                Reply(text=ANSWER, tokens_per_second=25))
    watcher = SyncWatcher(bob.client)
    await watcher.prime()
    prompt = await alice.client.send_message_event(room_id, EventType.ROOM_MESSAGE, {
        "msgtype": "m.text", "body": "Hearth AI: count for me",
        "m.mentions": {"user_ids": [ai_bot]},
    })
    events = await collect_answer(watcher, room_id, ai_bot, timeout=40)
    first, edits, final = events[0], events[1:-1], events[-1]
    assert first["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == prompt
    assert first["content"][LIVE] == {}
    assert edits, "expected live edits between the first event and the final one"
    for edit in [*edits, final]:
        assert edit["content"]["m.relates_to"] == {"rel_type": "m.replace",
                                                  "event_id": first["event_id"]}
    for edit in edits:
        assert edit["content"][LIVE] == {} and edit["content"]["m.new_content"][LIVE] == {}
    new_content = final["content"]["m.new_content"]
    assert LIVE not in final["content"] and LIVE not in new_content
    assert new_content["body"] == ANSWER
    assert new_content["format"] == "org.matrix.custom.html"
    assert "<strong>done</strong>" in new_content["formatted_body"]
    request = fake_model.requests[-1]
    assert request.messages[-1]["role"] == "user"
    assert request.messages[-1]["content"].endswith("count for me")


async def test_ai_bot_dm_answers_without_mention(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """In a direct chat every message is a prompt; short answers come as one complete event."""
    alice = await clients.user("alice")
    room_id, watcher = await dm_ready(alice, ai_bot, fake_model, Reply(text="Short *answer*."))
    await alice.client.send_text(room_id, "hello there")
    events = await collect_answer(watcher, room_id, ai_bot)
    final = events[-1]["content"]
    shown = final.get("m.new_content", final)
    assert shown["body"] == "Short *answer*."
    assert shown["formatted_body"] == "<p>Short <em>answer</em>.</p>"


async def test_ai_bot_group_room_ignores_unaddressed_messages(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """In a room of several people, a message that does not address the bot gets no answer."""
    alice, bob = await clients.user("alice"), await clients.user("bob")
    room_id = await group_ready(alice, bob, ai_bot, fake_model)
    await alice.client.send_text(room_id, "just talking to bob")
    watcher = SyncWatcher(alice.client)
    await watcher.prime()
    await alice.client.send_text(room_id, "!ai help")
    events = await collect_answer(watcher, room_id, ai_bot)
    assert len(events) == 1 and "!ai models" in events[0]["content"]["body"]
    assert fake_model.requests == []
