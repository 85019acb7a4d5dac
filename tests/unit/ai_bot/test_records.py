"""Answer records: a restart restores prompt → answer links; memory stays bounded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devtools.fake_openai import FakeOpenAI, Reply
from hearth.ai_bot.budget.db import Database, open_database
from hearth.ai_bot.links import AnswerLinks
from hearth.ai_bot.records import Records
from hearth.ai_bot.routing import Conversation, Prompt, RoomFacts
from tests.unit.ai_bot.assembly import ask, bot_pieces, mention
from tests.unit.ai_bot.fake_matrix import ALICE, BOB, BOT, ROOM, FakeMatrix

FACTS = RoomFacts(ROOM, is_direct=False, bot_user_id=BOT, bot_names=("Hearth AI",))


@pytest.fixture
async def links(tmp_path: Path) -> AsyncIterator[AnswerLinks]:
    db: Database = await open_database(f"sqlite:///{tmp_path / 'links.db'}")
    yield await AnswerLinks.open(db)
    await db.close()


async def test_records_restart_keeps_regenerate_working(fake_openai: FakeOpenAI,
                                                        links: AnswerLinks) -> None:
    """After a restart, 🔁 on an answer given before it still edits that answer."""
    fake_openai.push(Reply(text="before restart"), Reply(text="after restart"))
    matrix = FakeMatrix()
    async with bot_pieces(fake_openai, matrix=matrix, links=links) as bot:
        _, answer = await ask(bot, "tell me")
    async with bot_pieces(fake_openai, matrix=matrix, links=links) as restarted:
        reaction = matrix.reaction(ALICE, answer.event_id)
        await restarted.dispatcher.on_reaction(matrix.room(ALICE, BOB), reaction)
    assert matrix.shown(answer.event_id)["body"] == "after restart"
    assert len(matrix.messages()) == 1
    assert fake_openai.requests[-1].messages[-1]["content"].endswith("tell me")


async def test_records_restore_reads_the_prompt_as_last_edited(links: AnswerLinks) -> None:
    """A restored record answers the prompt's latest text, without the bot's name."""
    matrix = FakeMatrix()
    prompt = matrix.post(ALICE, mention("old text"), unsigned={"m.relations": {"m.replace": {
        "sender": ALICE, "content": {"m.new_content": {"body": "Hearth AI: new text"}}}}})
    await links.save(ROOM, prompt.event_id, ALICE, ["$answer"])
    record = await Records(matrix, links).for_answer(FACTS, "$answer")
    assert record is not None
    assert record.prompt == Prompt("new text", Conversation(ROOM))
    assert record.sender == ALICE and record.event_ids == ["$answer"]


async def test_records_not_restored_for_redacted_prompt_or_other_room(
        links: AnswerLinks) -> None:
    """A redacted prompt, or a link of another room, gives no record."""
    matrix = FakeMatrix()
    redacted = matrix.post(ALICE, mention("gone"))
    matrix.events[redacted.event_id]["unsigned"] = {"redacted_because": {"sender": ALICE}}
    await links.save(ROOM, redacted.event_id, ALICE, ["$a1"])
    elsewhere = matrix.post(ALICE, mention("there"), room_id="!other:hs")
    await links.save("!other:hs", elsewhere.event_id, ALICE, ["$a2"])
    records = Records(matrix, links)
    assert await records.for_answer(FACTS, "$a1") is None
    assert await records.for_answer(FACTS, "$a2") is None
    assert await records.for_prompt(FACTS, "$never") is None


async def test_records_memory_bounded_older_come_back_from_links(links: AnswerLinks) -> None:
    """Beyond the limit the oldest idle records leave memory; their links bring them back."""
    matrix = FakeMatrix()
    records = Records(matrix, links, max_records=2)
    prompts = [matrix.post(ALICE, mention(f"q{i}")) for i in range(3)]
    for i, event in enumerate(prompts):
        record = records.start(event.event_id, ALICE, 0, Prompt(f"q{i}", Conversation(ROOM)))
        assert record is not None
        await records.remember(record, [f"$answer{i}"])
    assert records.in_memory(prompts[0].event_id) is None
    assert records.in_memory(prompts[2].event_id) is not None
    back = await records.for_answer(FACTS, "$answer0")
    assert back is not None and back.prompt.text == "q0"


async def test_records_same_prompt_started_once() -> None:
    """A prompt seen again (re-delivered after a sync retry) gets no second record."""
    records = Records(FakeMatrix(), None)
    prompt = Prompt("hi", Conversation(ROOM))
    assert records.start("$p", ALICE, 0, prompt) is not None
    assert records.start("$p", ALICE, 0, prompt) is None
