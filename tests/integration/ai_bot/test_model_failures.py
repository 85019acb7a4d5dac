"""When the model fails the reader is told: a cut or stalled stream ends with a visible marker
(never silently truncated), a 429 is retried after Retry-After, a lasting 500 is explained."""

from __future__ import annotations

import pytest

from devtools.fake_openai import Fail, FakeOpenAI, Reply
from tests.harness.ai_bot import AnswerView, ask, dm_ready
from tests.harness.clients import ClientFactory, User

pytestmark = pytest.mark.integration

WORDS = [f"word{i}" for i in range(30)]


async def answer_to(user: User, bot: str, fake_model: FakeOpenAI, *steps: Reply | Fail
                    ) -> AnswerView:
    """A fresh DM; the bot's complete answer to one prompt, the model playing ``steps``."""
    room_id, watcher = await dm_ready(user, bot, fake_model, *steps)
    _, answer = await ask(user, watcher, room_id, bot, "tell me everything")
    return answer


@pytest.mark.parametrize(("reply", "shown", "why"), [
    pytest.param(Reply(text=" ".join(WORDS), tokens_per_second=40, cut_after=10), 10,
                 "connection lost", id="cut"),
    pytest.param(Reply(text=" ".join(WORDS), stall_after=5, stall_s=10), 5,
                 "no data for 1.5 seconds", id="stalled-past-stall_s"),
])
async def test_ai_bot_broken_stream_marks_answer_interrupted(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI, reply: Reply, shown: int,
    why: str,
) -> None:
    """The model's stream drops or goes silent (past stall_s, 1.5 s here) mid-answer: the words
    so far stay, followed by the marker, and the model is not silently asked again."""
    answer = await answer_to(await clients.user("alice"), ai_bot, fake_model, reply)
    (message,) = answer.messages
    assert answer.text(message) == (" ".join(WORDS[:shown]) + " \n\n⚠️ *Answer interrupted: "
                                    f"the model stopped ({why}).*")
    assert len(fake_model.requests) == 1  # text had been shown: no second attempt


async def test_ai_bot_rate_limited_model_is_retried_after_retry_after(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """A 429 with Retry-After: 1 is waited out and retried; the answer arrives complete."""
    answer = await answer_to(await clients.user("alice"), ai_bot, fake_model,
                             Fail(429, "Rate limit reached", "requests", retry_after="1"),
                             Reply(text="Worth the wait."))
    (message,) = answer.messages
    assert answer.text(message) == "Worth the wait."
    first, second = fake_model.requests
    assert second.received_at - first.received_at >= 0.95
    assert second.messages == first.messages


async def test_ai_bot_persistent_model_error_is_explained(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """A 500 on every attempt (three here) ends in one short, honest sentence."""
    answer = await answer_to(await clients.user("alice"), ai_bot, fake_model,
                             Fail(500), Fail(500), Fail(500))
    (message,) = answer.messages
    assert answer.text(message) == (
        "⚠️ The AI service failed (500) and did not answer; try again shortly.")
    assert len(fake_model.requests) == 3
