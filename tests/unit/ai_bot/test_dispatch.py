"""Dispatch: messages, edits, redactions and 🔁 turned into what people see in the room."""

from __future__ import annotations

import asyncio

from devtools.fake_openai import FakeOpenAI, Reply
from hearth.ai_bot import strings
from hearth.ai_bot.context.room_state import ACCOUNT_DATA_TYPE
from tests.unit.ai_bot.assembly import (
    NO_AI,
    SLOW,
    ask,
    bot_pieces,
    final_answer,
    first_visible,
    mention,
    static_policy,
)
from tests.unit.ai_bot.fake_matrix import ALICE, BOB, ROOM, FakeMatrix


async def test_dispatch_mention_is_answered_as_a_reply(fake_openai: FakeOpenAI) -> None:
    """A message mentioning the bot gets a streamed answer as a reply, with typing and a read
    receipt; the final edit carries the whole text."""
    fake_openai.push(Reply(text="Paris is the capital."))
    async with bot_pieces(fake_openai) as bot:
        prompt, answer = await ask(bot, "capital of France?")
        assert bot.matrix.shown(answer.event_id)["body"] == "Paris is the capital."
        assert (ROOM, prompt.event_id) in bot.matrix.receipts
        assert bot.matrix.typing_log[0] == (ROOM, True)
        assert bot.matrix.typing_log[-1] == (ROOM, False)
        asked = fake_openai.requests[-1].messages
        assert asked[-1]["content"].endswith("capital of France?")
        assert "Hearth AI:" not in asked[-1]["content"]


async def test_dispatch_message_not_for_the_bot_is_ignored(fake_openai: FakeOpenAI) -> None:
    """In a group room a message that does not address the bot gets nothing."""
    async with bot_pieces(fake_openai) as bot:
        event = bot.matrix.post(ALICE, {"msgtype": "m.text", "body": "lunch anyone?"})
        await bot.dispatcher.on_text(bot.matrix.room(ALICE, BOB), event)
        assert bot.matrix.sent == [] and fake_openai.requests == []


async def test_dispatch_thread_continues_without_mention(fake_openai: FakeOpenAI) -> None:
    """A prompt in a thread is answered in the thread; the next message there needs no
    mention."""
    fake_openai.push(Reply(text="first"), Reply(text="second"))
    async with bot_pieces(fake_openai) as bot:
        room = bot.matrix.room(ALICE, BOB)
        root = bot.matrix.post(ALICE, {"msgtype": "m.text", "body": "topic"})
        in_thread = {"rel_type": "m.thread", "event_id": root.event_id}
        prompt = bot.matrix.post(ALICE, {**mention("one"), "m.relates_to": in_thread})
        await bot.dispatcher.on_text(room, prompt)
        answer = await final_answer(bot.matrix, prompt.event_id)
        assert answer.content["m.relates_to"]["rel_type"] == "m.thread"
        assert answer.content["m.relates_to"]["event_id"] == root.event_id
        follow = bot.matrix.post(BOB, {"msgtype": "m.text", "body": "and two?",
                                       "m.relates_to": in_thread})
        await bot.dispatcher.on_text(room, follow)
        second = await final_answer(bot.matrix, follow.event_id)
        assert bot.matrix.shown(second.event_id)["body"] == "second"


async def test_dispatch_refuses_a_user_without_ai(fake_openai: FakeOpenAI) -> None:
    """Someone whose role has no AI gets a notice saying so, and the model is not called."""
    async with bot_pieces(fake_openai, policy=static_policy({BOB: NO_AI})) as bot:
        prompt = bot.matrix.post(BOB, mention("hello"))
        await bot.dispatcher.on_text(bot.matrix.room(ALICE, BOB), prompt)
        [notice] = bot.matrix.notices()
        assert notice.content["body"] == strings.NOT_ALLOWED
        assert notice.content["m.relates_to"] == {"m.in_reply_to": {"event_id": prompt.event_id}}
        assert fake_openai.requests == []


async def test_dispatch_edited_prompt_regenerates_in_place(fake_openai: FakeOpenAI) -> None:
    """Editing a prompt replaces the answer's text in the same event (no second message)."""
    fake_openai.push(Reply(text="old answer"), Reply(text="new answer"))
    async with bot_pieces(fake_openai) as bot:
        prompt, answer = await ask(bot, "first question")
        edit = bot.matrix.edit(ALICE, prompt.event_id, "Hearth AI: second question")
        await bot.dispatcher.on_text(bot.matrix.room(ALICE, BOB), edit)
        assert bot.matrix.shown(answer.event_id)["body"] == "new answer"
        assert len(bot.matrix.messages()) == 1
        assert fake_openai.requests[-1].messages[-1]["content"].endswith("second question")


async def test_dispatch_edit_by_someone_else_changes_nothing(fake_openai: FakeOpenAI) -> None:
    """Only the asker's edits count."""
    fake_openai.push(Reply(text="answer"))
    async with bot_pieces(fake_openai) as bot:
        prompt, _ = await ask(bot, "question")
        sent = len(bot.matrix.sent)
        edit = bot.matrix.edit(BOB, prompt.event_id, "other")
        await bot.dispatcher.on_text(bot.matrix.room(ALICE, BOB), edit)
        assert len(bot.matrix.sent) == sent and len(fake_openai.requests) == 1


async def test_dispatch_redacted_prompt_cancels_its_answer(fake_openai: FakeOpenAI) -> None:
    """Redacting a prompt stops its answer; the final edit says the question was withdrawn."""
    fake_openai.push(SLOW)
    async with bot_pieces(fake_openai) as bot:
        room = bot.matrix.room(ALICE, BOB)
        prompt = bot.matrix.post(ALICE, mention("long one"))
        answering = bot.tasks.spawn(bot.dispatcher.on_text(room, prompt))
        answer = await first_visible(bot.matrix)
        redaction = bot.matrix.redaction(ALICE, prompt.event_id)
        await bot.dispatcher.on_redaction(room, redaction)
        assert answering.done()
        shown = bot.matrix.shown(answer.event_id)
        assert bot.matrix.is_final(answer.event_id)
        assert shown["body"].endswith(
            strings.INTERRUPTED.format(reason=strings.REASON_CANCELLED).strip())


async def test_dispatch_regenerate_reaction_replaces_the_answer(fake_openai: FakeOpenAI) -> None:
    """🔁 on an answer asks the model again and edits the same event."""
    fake_openai.push(Reply(text="take one"), Reply(text="take two"))
    async with bot_pieces(fake_openai) as bot:
        _, answer = await ask(bot, "a joke")
        reaction = bot.matrix.reaction(BOB, answer.event_id)
        await bot.dispatcher.on_reaction(bot.matrix.room(ALICE, BOB), reaction)
        assert bot.matrix.shown(answer.event_id)["body"] == "take two"
        assert len(bot.matrix.messages()) == 1


async def test_dispatch_stop_answers_ends_with_shutdown_marker(fake_openai: FakeOpenAI) -> None:
    """At shutdown an answer in flight gets its final edit, saying why it stopped."""
    fake_openai.push(SLOW)
    async with bot_pieces(fake_openai) as bot:
        prompt = bot.matrix.post(ALICE, mention("long one"))
        bot.tasks.spawn(bot.dispatcher.on_text(bot.matrix.room(ALICE, BOB), prompt))
        answer = await first_visible(bot.matrix)
        await bot.dispatcher.stop_answers(timeout_s=10)
        assert bot.matrix.is_final(answer.event_id)
        assert strings.REASON_SHUTDOWN in bot.matrix.shown(answer.event_id)["body"]
        assert bot.matrix.typing_log[-1] == (ROOM, False)


async def test_dispatch_answer_survives_rate_limiting(fake_openai: FakeOpenAI) -> None:
    """A send refused with M_LIMIT_EXCEEDED is retried after the pause; the answer arrives."""
    fake_openai.push(Reply(text="patience pays"))
    matrix = FakeMatrix()
    matrix.rate_limit_next_send(retry_after_ms=100)
    async with bot_pieces(fake_openai, matrix=matrix) as bot:
        prompt = matrix.post(ALICE, mention("hi"))
        await bot.dispatcher.on_text(matrix.room(ALICE, BOB), prompt)
        answer = await final_answer(matrix, prompt.event_id)
        assert matrix.shown(answer.event_id)["body"] == "patience pays"


async def test_dispatch_model_command_is_saved_and_used(fake_openai: FakeOpenAI) -> None:
    """``!ai model`` from a moderator is confirmed, kept in room data, and answers use it."""
    fake_openai.push(Reply(text="ok"))
    async with bot_pieces(fake_openai) as bot:
        bot.matrix.power_levels[ALICE] = 100
        room = bot.matrix.room(ALICE, BOB)
        command = bot.matrix.post(ALICE, {"msgtype": "m.text", "body": "!ai model gpt-4o"})
        await bot.dispatcher.on_text(room, command)
        [notice] = bot.matrix.notices()
        assert notice.content["body"] == strings.MODEL_SET_ROOM.format(model="gpt-4o")
        assert "gpt-4o" in str(bot.matrix.room_data[(ROOM, ACCOUNT_DATA_TYPE)])
        prompt = bot.matrix.post(ALICE, mention("hi"))
        await bot.dispatcher.on_text(room, prompt)
        await final_answer(bot.matrix, prompt.event_id)
        assert fake_openai.requests[-1].body["model"] == "gpt-4o"


async def test_dispatch_same_prompt_delivered_twice_is_answered_once(
        fake_openai: FakeOpenAI) -> None:
    """A re-delivered event does not start a second answer."""
    fake_openai.push(Reply(text="once"))
    async with bot_pieces(fake_openai) as bot:
        room = bot.matrix.room(ALICE, BOB)
        prompt = bot.matrix.post(ALICE, mention("hi"))
        await asyncio.gather(bot.dispatcher.on_text(room, prompt),
                             bot.dispatcher.on_text(room, prompt))
        await final_answer(bot.matrix, prompt.event_id)
        assert len(bot.matrix.messages()) == 1 and len(fake_openai.requests) == 1
