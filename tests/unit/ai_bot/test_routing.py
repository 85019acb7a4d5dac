"""Routing: what a message asks of the bot (pure)."""

from __future__ import annotations

from typing import Any

from hearth.ai_bot.routing import (
    Command,
    Conversation,
    Ignore,
    Incoming,
    Prompt,
    RoomFacts,
    parse_command,
    route,
    strip_reply_fallback,
)

BOT = "@ai:hs"
GROUP = RoomFacts("!r", is_direct=False, bot_user_id=BOT, bot_names=("ai", "Hearth AI"))
DM = RoomFacts("!d", is_direct=True, bot_user_id=BOT, bot_names=("ai",))


def msg(body: str, **content: Any) -> Incoming:
    return Incoming("$e", "@u:hs", {"msgtype": "m.text", "body": body, **content})


def test_routing_dm_every_message_is_a_prompt() -> None:
    """In a direct chat no mention is needed."""
    assert route(msg("hello"), DM) == Prompt("hello", Conversation("!d"))


def test_routing_group_room_needs_address() -> None:
    """In a group room an unaddressed message is ignored."""
    assert isinstance(route(msg("hello all"), GROUP), Ignore)


def test_routing_mention_by_m_mentions_pill_and_name() -> None:
    """m.mentions, a matrix.to pill and the display name each address the bot."""
    by_mentions = msg("what now?", **{"m.mentions": {"user_ids": [BOT]}})
    pill = msg("Hearth AI: what now?", formatted_body='<a href="https://matrix.to/#/%40ai%3Ahs">'
               "Hearth AI</a>: what now?")
    by_name = msg("hearth ai, what now?")
    for message in (by_mentions, pill, by_name):
        decision = route(message, GROUP)
        assert decision == Prompt("what now?", Conversation("!r")), decision
    assert isinstance(route(msg("said hearth aim"), GROUP), Ignore)


def test_routing_reply_to_bot_and_thread_with_bot() -> None:
    """Replying to the bot, or writing in a thread it is part of, addresses it."""
    reply = Incoming("$e", "@u:hs", {"msgtype": "m.text", "body": "> <@ai:hs> x\n\nmore?",
                                     "m.relates_to": {"m.in_reply_to": {"event_id": "$b"}}},
                     replied_to_sender=BOT)
    assert route(reply, GROUP) == Prompt("more?", Conversation("!r"))
    threaded = {"msgtype": "m.text", "body": "and then?",
                "m.relates_to": {"rel_type": "m.thread", "event_id": "$root",
                                 "is_falling_back": True,
                                 "m.in_reply_to": {"event_id": "$last"}}}
    assert route(Incoming("$e", "@u:hs", threaded, thread_with_bot=True), GROUP) == Prompt(
        "and then?", Conversation("!r", "$root"))
    assert isinstance(route(Incoming("$e", "@u:hs", threaded), GROUP), Ignore)


def test_routing_commands_anywhere() -> None:
    """!ai commands are recognised with or without a mention, in rooms and threads."""
    assert route(msg("!ai model gpt-4o"), GROUP) == Command("model", "gpt-4o",
                                                            Conversation("!r"))
    assert route(msg("ai: !ai reset"), GROUP) == Command("reset", "", Conversation("!r"))
    assert parse_command("!ai") == ("help", "")
    assert parse_command("!aint") is None
    assert parse_command("!ai SYSTEM be\nbrief") == ("system", "be\nbrief")


def test_routing_ignores_own_edits_and_notices() -> None:
    """The bot's own messages, edits and notices are never prompts."""
    assert isinstance(route(Incoming("$e", BOT, {"msgtype": "m.text", "body": "x"}), DM), Ignore)
    edit = msg("* x", **{"m.relates_to": {"rel_type": "m.replace", "event_id": "$p"}})
    assert route(edit, DM) == Ignore("edit")
    assert isinstance(route(Incoming("$e", "@u:hs", {"msgtype": "m.notice", "body": "x"}), DM),
                      Ignore)


def test_routing_thread_is_one_conversation() -> None:
    """A thread's key differs from the room's main timeline."""
    assert Conversation("!r", "$t").key != Conversation("!r").key
    assert strip_reply_fallback("> <@a> q\n> more\n\nreal") == "real"
