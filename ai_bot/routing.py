"""What is this message asking for? Pure decisions, no Matrix client, no I/O.

A message is a *prompt* when it is in a direct chat with the bot, mentions the bot (``m.mentions``,
a pill linking to the bot, or its name), replies to the bot, or continues a thread the bot takes
part in. ``!ai ...`` is a command anywhere. A thread is one conversation; the main timeline of a
room is another.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

COMMAND_PREFIX = "!ai"
LIVE_KEY = "org.matrix.msc4357.live"
# Marks the bot's own notices (command replies, warnings) so history leaves them out.
NOTICE_KEY = "org.hearth.ai.notice"


@dataclass(frozen=True)
class Conversation:
    """A room's main timeline, or one thread in it."""

    room_id: str
    thread_root: str | None = None

    @property
    def key(self) -> str:
        return self.room_id if self.thread_root is None else f"{self.room_id}|{self.thread_root}"


@dataclass(frozen=True)
class RoomFacts:
    """What routing needs to know about the room and the bot."""

    room_id: str
    is_direct: bool
    bot_user_id: str
    bot_names: tuple[str, ...]


@dataclass(frozen=True)
class Incoming:
    """A message event, plus what the caller looked up about its relations."""

    event_id: str
    sender: str
    content: Mapping[str, Any]
    replied_to_sender: str | None = None
    thread_with_bot: bool = False


@dataclass(frozen=True)
class Ignore:
    """Nothing for the bot to do; ``reason`` says why (for debugging)."""

    reason: str


@dataclass(frozen=True)
class Command:
    """``!ai name args``, to be answered with a notice in ``conversation``."""

    name: str
    args: str
    conversation: Conversation


@dataclass(frozen=True)
class Prompt:
    """A question for the model: ``text`` without the bot's name or a reply fallback."""

    text: str
    conversation: Conversation


Route = Ignore | Command | Prompt


def relation(content: Mapping[str, Any]) -> Mapping[str, Any]:
    rel = content.get("m.relates_to")
    return rel if isinstance(rel, Mapping) else {}


def thread_root(content: Mapping[str, Any]) -> str | None:
    """The thread this event belongs to, if any."""
    rel = relation(content)
    root = rel.get("event_id")
    return root if rel.get("rel_type") == "m.thread" and isinstance(root, str) else None


def replaced_event(content: Mapping[str, Any]) -> str | None:
    """The event an edit replaces, if this is an edit."""
    rel = relation(content)
    target = rel.get("event_id")
    return target if rel.get("rel_type") == "m.replace" and isinstance(target, str) else None


def in_reply_to(content: Mapping[str, Any]) -> str | None:
    """The event this one really replies to (thread fallbacks do not count)."""
    rel = relation(content)
    if rel.get("rel_type") == "m.thread" and rel.get("is_falling_back", False):
        return None
    reply = rel.get("m.in_reply_to")
    if isinstance(reply, Mapping) and isinstance(reply.get("event_id"), str):
        return str(reply["event_id"])
    return None


def strip_reply_fallback(body: str) -> str:
    """Drop the ``> <@user> quoted`` fallback that older clients put before a reply."""
    lines = body.splitlines()
    if not lines or not lines[0].startswith("> "):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    return "\n".join(lines[index:]).lstrip("\n")


def _pill_targets(formatted: str) -> set[str]:
    found = set()
    for href in re.findall(r"""href=["']https://matrix\.to/#/([^"'?]+)""", formatted):
        found.add(unquote(href))
    return found


def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@]){re.escape(name)}(?!\w)", re.IGNORECASE)


def mentions_bot(content: Mapping[str, Any], facts: RoomFacts) -> bool:
    """Whether the message addresses the bot by m.mentions, a pill or its name."""
    mentions = content.get("m.mentions")
    if isinstance(mentions, Mapping):
        user_ids = mentions.get("user_ids")
        if isinstance(user_ids, list) and facts.bot_user_id in user_ids:
            return True
    formatted = content.get("formatted_body")
    if isinstance(formatted, str) and facts.bot_user_id in _pill_targets(formatted):
        return True
    body = strip_reply_fallback(str(content.get("body", "")))
    if facts.bot_user_id in body:
        return True
    return any(name and _name_pattern(name).search(body) for name in facts.bot_names)


def strip_mention(text: str, facts: RoomFacts) -> str:
    """The prompt without a leading ``Name:`` / ``@bot`` address."""
    for name in sorted((facts.bot_user_id, *facts.bot_names), key=len, reverse=True):
        if not name:
            continue
        pattern = re.compile(rf"^\s*@?{re.escape(name.lstrip('@'))}\s*[:,]?\s*", re.IGNORECASE)
        stripped = pattern.sub("", text, count=1)
        if stripped != text:
            return stripped.strip()
    return text.strip()


def too_old(server_ts: int, max_age_s: float, now_ms: float) -> bool:
    """Whether an event is older than the bot reacts to (a backlog after downtime is not
    answered)."""
    return server_ts < now_ms - max_age_s * 1000


def prompt_text(body: str, facts: RoomFacts) -> str:
    """What a message's body asks, as the model gets it: no reply fallback, no address."""
    return strip_mention(strip_reply_fallback(body), facts)


def parse_command(text: str) -> tuple[str, str] | None:
    """``!ai name args`` → (name, args); ``!ai`` alone is ``help``; None if not a command."""
    stripped = text.strip()
    if not (stripped == COMMAND_PREFIX or stripped.startswith(COMMAND_PREFIX + " ")
            or stripped.startswith(COMMAND_PREFIX + "\n")):
        return None
    rest = stripped[len(COMMAND_PREFIX):].strip()
    if not rest:
        return ("help", "")
    name, _, args = rest.partition(" ")
    if "\n" in name:
        name, _, more = name.partition("\n")
        args = (more + " " + args).strip()
    return (name.lower(), args.strip())


def route(message: Incoming, facts: RoomFacts) -> Route:
    """Decide what ``message`` asks of the bot."""
    content = message.content
    if message.sender == facts.bot_user_id:
        return Ignore("own message")
    if replaced_event(content) is not None:
        return Ignore("edit")
    if content.get("msgtype") not in ("m.text", "m.emote"):
        return Ignore(f"msgtype {content.get('msgtype')}")
    conversation = Conversation(facts.room_id, thread_root(content))
    body = strip_reply_fallback(str(content.get("body", "")))
    command = parse_command(strip_mention(body, facts))
    if command is not None:
        return Command(command[0], command[1], conversation)
    addressed = (
        facts.is_direct
        or message.replied_to_sender == facts.bot_user_id
        or (conversation.thread_root is not None and message.thread_with_bot)
        or mentions_bot(content, facts)
    )
    if not addressed:
        return Ignore("not addressed to the bot")
    text = strip_mention(body, facts)
    if not text:
        return Ignore("empty prompt")
    return Prompt(text, conversation)
