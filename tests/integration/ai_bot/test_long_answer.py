"""An answer longer than one event may carry continues in a follow-up message, losing nothing."""

from __future__ import annotations

import pytest

from devtools.fake_openai import FakeOpenAI, Reply
from tests.harness.ai_bot import dm_ready, watch_answer
from tests.harness.clients import ClientFactory

pytestmark = pytest.mark.integration

# About 17 KB of Markdown, past the default 12,000-byte body limit, full of characters that
# HTML-escaping makes several times longer in formatted_body (an event may be 64 KiB).
PARAGRAPHS = [" ".join(f'"p{p}w{w}" & <i>' for w in range(40)) for p in range(30)]
ANSWER = "\n\n".join(PARAGRAPHS)
CONTINUED = "*(continued)*\n\n"


async def test_ai_bot_long_answer_continues_in_follow_up_message(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """The first message's final edit and the follow-up together hold the whole answer."""
    alice = await clients.user("alice")
    room_id, watcher = await dm_ready(alice, ai_bot, fake_model, Reply(text=ANSWER))
    prompt = await alice.client.send_text(room_id, "write at length")
    answer = await watch_answer(watcher, room_id, ai_bot, prompt_id=prompt, timeout=60,
                                done=lambda view: len(view.messages) == 2 and view.complete())
    first, follow_up = answer.messages
    head, tail = answer.text(first), answer.text(follow_up)
    assert len(head.encode()) <= 12_000
    assert tail.startswith(CONTINUED)
    assert head + "\n\n" + tail.removeprefix(CONTINUED) == ANSWER
    assert answer.finals_of(first) == [head]
    for message in (first, follow_up):
        event = next(e for e in answer.events if e["event_id"] == message)
        assert event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == prompt
