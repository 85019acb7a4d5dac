"""One answer: the conversation as context, tool steps, failures and limits as people see them."""

from __future__ import annotations

from typing import Any

from devtools.fake_openai import Fail, FakeOpenAI, FakeToolCall, Reply
from hearth.ai_bot import strings
from hearth.ai_bot.answer import Job
from hearth.ai_bot.budget.types import BudgetRefusal, Period, Reservation, SpendSummary
from hearth.ai_bot.config import StreamingConfig
from hearth.ai_bot.routing import Conversation
from tests.unit.ai_bot.assembly import CADENCE, MEMBER, Pieces, bot_pieces
from tests.unit.ai_bot.fake_matrix import ALICE, BOB, ROOM, FakeMatrix, Sent

ACCESS = MEMBER


def job_for(matrix: FakeMatrix, text: str, **changes: Any) -> Job:
    """A job for a prompt ``text`` Alice just posted in the room's main timeline."""
    prompt = matrix.post(ALICE, {"msgtype": "m.text", "body": text})
    fields: dict[str, Any] = {
        "prompt_event_id": prompt.event_id, "prompt_text": text,
        "prompt_ts": matrix.events[prompt.event_id]["origin_server_ts"], "sender": ALICE,
        "conversation": Conversation(ROOM), "model": "gpt-4o-mini", "access": ACCESS,
        "system_prompt": None, "reset_ts": 0,
        "relation": {"m.in_reply_to": {"event_id": prompt.event_id}}}
    return Job(**{**fields, **changes})


async def answer(bot: Pieces, job: Job) -> tuple[list[Sent], list[str]]:
    """Run the job; the bot's messages afterwards and the notices it asked to send."""
    notices: list[str] = []

    async def notify(text: str) -> None:
        notices.append(text)

    await bot.answerer.run(job, notify)
    return bot.matrix.messages(), notices


async def test_answer_context_is_the_conversation_since_reset(fake_openai: FakeOpenAI) -> None:
    """Earlier messages go to the model with names, the bot's answers as its own turns;
    nothing from before a reset does."""
    fake_openai.push(Reply(text="fine"))
    async with bot_pieces(fake_openai) as bot:
        bot.matrix.names[BOB] = "Bob"
        bot.matrix.post(BOB, {"msgtype": "m.text", "body": "before the reset"})
        reset = bot.matrix.post(ALICE, {"msgtype": "m.text", "body": "!ai reset"})
        bot.matrix.post(BOB, {"msgtype": "m.text", "body": "pizza tonight?"})
        await bot.matrix.send_message(ROOM, {"msgtype": "m.text", "body": "Sounds good."}, "t")
        reset_ts = bot.matrix.events[reset.event_id]["origin_server_ts"]
        await answer(bot, job_for(bot.matrix, "what did Bob say?", reset_ts=reset_ts))
        sent = fake_openai.requests[-1].messages
        text = str(sent)
        assert "pizza tonight?" in text and "Bob" in text and "before the reset" not in text
        assert {"role": "assistant", "content": "Sounds good."} in sent
        assert sent[-1]["role"] == "user" and sent[-1]["content"].endswith("what did Bob say?")


async def test_answer_tool_step_shows_status_then_answer(fake_openai: FakeOpenAI) -> None:
    """While a tool runs the answer shows it; the final answer has the model's text only."""
    fake_openai.push(Reply(text="", tool_calls=(FakeToolCall("list_members", "{}"),)),
                     Reply(text="Three people are here."))
    async with bot_pieces(fake_openai) as bot:
        messages, _ = await answer(bot, job_for(bot.matrix, "who is here?"))
        [message] = messages
        versions = [message, *bot.matrix.edits_of(message.event_id)]
        running = strings.TOOL_RUNNING.format(tool="list_members").strip()
        assert any(running in v.shown["body"] for v in versions)
        assert bot.matrix.shown(message.event_id)["body"] == "Three people are here."
        tool_turn = fake_openai.requests[-1].messages[-1]
        assert tool_turn["role"] == "tool" and ALICE in tool_turn["content"]


async def test_answer_model_failure_is_said_in_the_answer(fake_openai: FakeOpenAI) -> None:
    """A model that keeps failing gives a short warning as the answer, not silence."""
    fake_openai.push(Fail(status=500), Fail(status=500), Fail(status=500))
    async with bot_pieces(fake_openai) as bot:
        [message], _ = await answer(bot, job_for(bot.matrix, "hello?"))
        assert bot.matrix.shown(message.event_id)["body"].startswith("⚠️")
        assert bot.matrix.is_final(message.event_id)


async def test_answer_cut_at_length_limit_says_so(fake_openai: FakeOpenAI) -> None:
    """An answer the model stopped at its token limit ends with a marker saying so."""
    fake_openai.push(Reply(text="a long story", finish_reason="length"))
    async with bot_pieces(fake_openai) as bot:
        [message], _ = await answer(bot, job_for(bot.matrix, "tell a story"))
        assert bot.matrix.shown(message.event_id)["body"] == "a long story" + (
            strings.INTERRUPTED.format(reason=strings.REASON_LENGTH))


async def test_answer_too_long_continues_in_a_follow_up(fake_openai: FakeOpenAI) -> None:
    """Text beyond the size limit of one event continues in a second message."""
    fake_openai.push(Reply(text="lorem ipsum " * 60))
    small = StreamingConfig(min_edit_interval_s=CADENCE.min_edit_interval_s,
                        max_edits_per_second=CADENCE.max_edits_per_second, max_body_bytes=300)
    async with bot_pieces(fake_openai, cadence=small) as bot:
        messages, _ = await answer(bot, job_for(bot.matrix, "lots please"))
        assert len(messages) >= 2
        assert all(bot.matrix.is_final(m.event_id) for m in messages)
        assert bot.matrix.shown(messages[1].event_id)["body"].startswith(strings.CONTINUED)
        whole = " ".join(bot.matrix.shown(m.event_id)["body"].replace(strings.CONTINUED, "")
                        for m in messages)
        assert whole.split() == ("lorem ipsum " * 60).split()


class BrokenLedger:
    """A budget ledger that refuses, or cannot be reached."""

    def __init__(self, refusal: BudgetRefusal | None = None) -> None:
        self.refusal = refusal

    async def reserve(self, user_id: str, room_id: str, model: str, amount_usd: float,
                      user_limits: dict[Period, float | None],
                      room_limits: dict[Period, float | None],
                      bot_limits: dict[Period, float | None]) -> Reservation | BudgetRefusal:
        if self.refusal is None:
            raise ConnectionError("database down")
        return self.refusal

    async def settle(self, reservation: Reservation, actual_usd: float) -> None:
        raise AssertionError("nothing was reserved")

    async def release(self, reservation: Reservation) -> None:
        raise AssertionError("nothing was reserved")

    async def summary(self, user_id: str, room_id: str) -> SpendSummary:
        return SpendSummary(0, 0, 0, 0, None, None)


async def test_answer_budget_refusal_or_outage_asks_no_model(fake_openai: FakeOpenAI) -> None:
    """Over budget, or with the ledger unreachable, the asker is told and the model is not
    called (fail closed)."""
    refusal = BudgetRefusal("user", "day", 1.0, 1.0)
    for ledger, said in ((BrokenLedger(refusal), refusal.message()),
                         (BrokenLedger(), strings.BUDGET_UNAVAILABLE)):
        async with bot_pieces(fake_openai, ledger=ledger) as bot:
            messages, notices = await answer(bot, job_for(bot.matrix, "hi"))
            assert messages == [] and notices == [said]
    assert fake_openai.requests == []
