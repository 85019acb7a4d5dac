"""While the bot works on an answer the room sees it typing, and it marks the prompt read."""

from __future__ import annotations

from typing import Any

import pytest
from mautrix.types import UserID

from devtools.fake_openai import FakeOpenAI, Reply
from tests.harness.ai_bot import LIVE, bot_events, send
from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory
from tests.harness.sync import SyncWatcher, room_ephemeral

pytestmark = pytest.mark.integration


async def test_ai_bot_typing_and_read_receipt_while_answering(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """Another member's /sync shows the bot typing while the model works and not typing once
    the answer is final, and the bot's read receipt on the prompt."""
    alice, bob = await clients.user("alice"), await clients.user("bob")
    room_id = await alice.client.create_room(invitees=[UserID(ai_bot), UserID(bob.user_id)])
    await bob.client.join_room(room_id)
    await eventually(lambda: alice.client.get_joined_members(room_id),
                     lambda members: ai_bot in members, what="the bot joining")
    watcher = SyncWatcher(bob.client)
    await watcher.prime()
    fake_model.reset()
    fake_model.push(Reply(text=" ".join(f"w{i}" for i in range(12)), first_chunk_delay_s=1.0,
                          tokens_per_second=10))
    prompt = await send(alice, room_id, {"msgtype": "m.text", "body": "Hearth AI: think it over",
                                         "m.mentions": {"user_ids": [ai_bot]}})
    typing: list[tuple[int, bool]] = []  # (sync batch, bot typing)
    finals: list[int] = []
    readers: set[str] = set()
    batch = 0

    def observe(response: dict[str, Any]) -> bool:
        nonlocal batch
        batch += 1
        for event in room_ephemeral(response, room_id):
            if event["type"] == "m.typing":
                typing.append((batch, ai_bot in event["content"]["user_ids"]))
            if event["type"] == "m.receipt":
                read = event["content"].get(prompt, {}).get("m.read", {})
                readers.update(read)
        for event in bot_events(response, room_id, ai_bot):
            if LIVE not in event["content"]:
                finals.append(batch)
        return bool(finals) and bool(typing) and not typing[-1][1]

    await watcher.wait_for(observe, timeout=30)
    assert any(on for _, on in typing), typing
    first_on = next(b for b, on in typing if on)
    assert first_on <= finals[0], "typing must show before the answer is final"
    assert typing[-1][0] >= finals[0] and not typing[-1][1]
    assert ai_bot in readers
