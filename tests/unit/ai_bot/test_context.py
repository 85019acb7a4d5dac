"""Context: history with edits applied, redactions dropped, speakers named, trimmed."""

from __future__ import annotations

from typing import Any

from hearth.ai_bot.context.history import conversation_turns
from hearth.ai_bot.context.prompt import DEFAULT_SYSTEM, build_prompt
from hearth.ai_bot.context.room_state import RoomSettings
from hearth.ai_bot.routing import NOTICE_KEY, Conversation

BOT = "@ai:hs"
ROOM = Conversation("!r")


def ev(event_id: str, sender: str, body: str, ts: int, **content: Any) -> dict[str, Any]:
    return {"type": "m.room.message", "event_id": event_id, "sender": sender,
            "origin_server_ts": ts, "content": {"msgtype": "m.text", "body": body, **content}}


def history() -> list[dict[str, Any]]:
    return [
        ev("$1", "@a:hs", "first", 1),
        ev("$2", "@b:hs", "typo", 2),
        ev("$3", "@b:hs", "* fixed", 3, **{"m.new_content": {"msgtype": "m.text",
                                                             "body": "fixed"},
                                           "m.relates_to": {"rel_type": "m.replace",
                                                            "event_id": "$2"}}),
        {"type": "m.room.message", "event_id": "$4", "sender": "@a:hs", "origin_server_ts": 4,
         "content": {}, "unsigned": {"redacted_because": {}}},
        ev("$5", BOT, "an answer", 5),
        ev("$6", BOT, "a notice", 6, **{NOTICE_KEY: {}}),
        ev("$7", "@a:hs", "!ai models", 7),
        ev("$8", "@a:hs", "in a thread", 8, **{"m.relates_to": {"rel_type": "m.thread",
                                                                "event_id": "$1"}}),
        ev("$9", "@a:hs", "the prompt", 9),
        ev("$10", "@b:hs", "after the prompt", 10),
    ]


def test_context_edits_applied_redactions_notices_commands_dropped() -> None:
    """The turns read as the room does now, main timeline only, up to the prompt."""
    turns = conversation_turns(history(), ROOM, BOT, up_to_event="$9")
    assert [(t.event_id, t.role, t.text) for t in turns] == [
        ("$1", "user", "first"), ("$2", "user", "fixed"), ("$5", "assistant", "an answer"),
        ("$9", "user", "the prompt")]


def test_context_thread_and_reset() -> None:
    """A thread holds its root and replies; a reset drops what came before it."""
    thread = conversation_turns(history(), Conversation("!r", "$1"), BOT)
    assert [t.event_id for t in thread] == ["$1", "$8"]
    after = conversation_turns(history(), ROOM, BOT, after_ts=5, up_to_event="$9")
    assert [t.event_id for t in after] == ["$9"]


def test_context_prompt_names_speakers_and_trims_to_budget() -> None:
    """Users are named; the oldest turns go first when the budget is small."""
    turns = conversation_turns(history(), ROOM, BOT, up_to_event="$9")
    names = {"@a:hs": "Alice", "@b:hs": "Bob Smith"}
    full = build_prompt(turns, display_name=names.__getitem__, system_prompt=None,
                        budget_tokens=10_000, count=len)
    assert full.messages[0].content == DEFAULT_SYSTEM
    assert full.messages[2].content == "Bob Smith: fixed" and full.messages[2].name == "Bob_Smith"
    assert full.messages[3].role == "assistant"
    small = build_prompt(turns, display_name=names.__getitem__, system_prompt="S",
                         budget_tokens=len("S") + 25, count=len)
    assert [m.content for m in small.messages] == ["S", "Alice: the prompt"]
    assert [t.event_id for t in small.dropped] == ["$1", "$2", "$5"]
    summarised = build_prompt(turns, display_name=names.__getitem__, system_prompt="S",
                              budget_tokens=10_000, count=len, summary="they met")
    assert "they met" in (summarised.messages[1].content or "")


def test_context_room_settings_round_trip() -> None:
    """System prompt, resets and model choices survive the account-data round trip."""
    thread = Conversation("!r", "$t")
    settings = (RoomSettings().with_system_prompt("P").with_reset(ROOM, 7)
                .with_model(ROOM, "gpt-4o").with_model(thread, "gpt-4o-mini"))
    again = RoomSettings.from_json(settings.to_json())
    assert again == settings
    assert again.model_for(thread) == "gpt-4o-mini"
    assert again.model_for(Conversation("!r", "$other")) == "gpt-4o"
    assert again.reset_ts(ROOM) == 7 and again.reset_ts(thread) == 0
    assert RoomSettings.from_json({"resets": "bad"}) == RoomSettings()
