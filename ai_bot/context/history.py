"""Raw room events → the turns of one conversation: edits applied, redactions and the bot's
notices dropped, commands left out, only the conversation's thread (or main timeline)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hearth.ai_bot.routing import (
    NOTICE_KEY,
    Conversation,
    parse_command,
    replaced_event,
    strip_reply_fallback,
    thread_root,
)

TEXT_TYPES = ("m.text", "m.notice", "m.emote")


@dataclass(frozen=True)
class Turn:
    """One message of the conversation, as it reads now."""

    event_id: str
    sender: str
    role: Literal["user", "assistant"]
    text: str
    ts: int


def _is_redacted(event: Mapping[str, Any]) -> bool:
    unsigned = event.get("unsigned") or {}
    return "redacted_because" in unsigned or not event.get("content")


def _in_conversation(event: Mapping[str, Any], conversation: Conversation) -> bool:
    root = thread_root(event.get("content") or {})
    if conversation.thread_root is None:
        return root is None
    return root == conversation.thread_root or event.get("event_id") == conversation.thread_root


def conversation_turns(
    events: Sequence[Mapping[str, Any]], conversation: Conversation, bot_user_id: str, *,
    after_ts: int = 0, up_to_event: str | None = None,
) -> list[Turn]:
    """The turns of ``conversation`` from chronological ``events`` (decrypted where needed).

    ``after_ts`` drops what came at or before a ``!ai reset``; ``up_to_event`` ends the
    history at the prompt being answered (later events are not part of its context).
    """
    latest_edit: dict[str, Mapping[str, Any]] = {}
    senders = {e.get("event_id"): e.get("sender") for e in events}
    for event in events:
        content = event.get("content") or {}
        target = replaced_event(content)
        if target is None or _is_redacted(event) or senders.get(target) != event.get("sender"):
            continue
        new_content = content.get("m.new_content")
        if isinstance(new_content, Mapping):
            latest_edit[target] = new_content
    turns: list[Turn] = []
    for event in events:
        if event.get("type") != "m.room.message" or _is_redacted(event):
            continue
        content = event.get("content") or {}
        if replaced_event(content) is not None or not _in_conversation(event, conversation):
            continue
        event_id = str(event.get("event_id"))
        shown = latest_edit.get(event_id, content)
        if shown.get(NOTICE_KEY) is not None or content.get(NOTICE_KEY) is not None:
            continue
        if shown.get("msgtype") not in TEXT_TYPES:
            continue
        text = strip_reply_fallback(str(shown.get("body", ""))).strip()
        sender = str(event.get("sender"))
        ts = int(event.get("origin_server_ts", 0))
        if text and ts > after_ts and (sender == bot_user_id or parse_command(text) is None):
            role: Literal["user", "assistant"] = (
                "assistant" if sender == bot_user_id else "user"
            )
            turns.append(Turn(event_id, sender, role, text, ts))
        if up_to_event is not None and event_id == up_to_event:
            break
    return turns
