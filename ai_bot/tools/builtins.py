"""Built-in tools: search this room's history, read a message or thread, list the members,
the current date and time. Each acts with the asking user's permissions: the user must be in
the room, and under ``joined``/``invited`` history visibility sees nothing from before they
joined."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hearth.ai_bot.context.history import conversation_turns
from hearth.ai_bot.context.visibility import visible_since as user_visible_since
from hearth.ai_bot.llm.types import ToolSpec
from hearth.ai_bot.routing import Conversation, strip_reply_fallback
from hearth.ai_bot.tools.registry import ToolContext, ToolError, ToolRegistry


@dataclass(frozen=True)
class _Param:
    """One parameter of a tool: its JSON schema, and whether the model must give it."""

    schema: dict[str, Any]
    required: bool = False


def _param(kind: str, description: str, *, required: bool = False, **limits: Any) -> _Param:
    return _Param({"type": kind, "description": description, **limits}, required)


def _tool(name: str, description: str, **params: _Param) -> ToolSpec:
    """A tool's spec, its parameters as the JSON-schema object the model sees."""
    schema: dict[str, Any] = {"type": "object",
                              "properties": {key: p.schema for key, p in params.items()}}
    required = [key for key, p in params.items() if p.required]
    if required:
        schema["required"] = required
    return ToolSpec(name=name, description=description, parameters=schema)


async def visible_since(context: ToolContext) -> int:
    """The earliest server timestamp the asking user may read in this room."""
    since = await user_visible_since(context.reader, context.room_id, context.user_id)
    if since is None:
        raise ToolError("the asking user is not a member of this room")
    return since


def _line(event: Mapping[str, Any], context: ToolContext) -> str:
    when = datetime.fromtimestamp(int(event.get("origin_server_ts", 0)) / 1000, UTC)
    body = strip_reply_fallback(str((event.get("content") or {}).get("body", ""))).strip()
    name = context.display_name(str(event.get("sender")))
    return f"[{when:%Y-%m-%d %H:%M} UTC] {name} ({event.get('event_id')}): {body}"


def _text_events(events: list[dict[str, Any]], since: int) -> list[dict[str, Any]]:
    return [
        e for e in events
        if e.get("type") == "m.room.message" and int(e.get("origin_server_ts", 0)) >= since
        and not (e.get("unsigned") or {}).get("redacted_because")
        and (e.get("content") or {}).get("body")
    ]


class SearchRoomHistory:
    spec = _tool(
        "search_room_history",
        "Search this room's message history for messages containing all the words of a query "
        "(case-insensitive). Returns matching messages, newest first.",
        query=_param("string", "words to look for", required=True),
        limit=_param("integer", "how many matches at most (default 10)", minimum=1, maximum=50),
    )

    def __init__(self, scan_events: int) -> None:
        self.scan_events = scan_events

    async def run(self, args: Mapping[str, Any], context: ToolContext) -> str:
        query = str(args.get("query", "")).strip().lower()
        if not query:
            raise ToolError("the query is empty")
        limit = max(1, min(int(args.get("limit", 10)), 50))
        since = await visible_since(context)
        events = await context.reader.recent_events(context.room_id, self.scan_events)
        words = query.split()
        found = [e for e in reversed(_text_events(events, since))
                 if all(w in str(e["content"]["body"]).lower() for w in words)]
        if not found:
            return f"No messages in this room match {query!r}."
        return "\n".join(_line(e, context) for e in found[:limit])


class ReadMessage:
    spec = _tool(
        "read_message",
        "Read one message of this room by its event ID; with thread=true, read the whole "
        "thread that starts at that message.",
        event_id=_param("string", "the message's event ID ($...)", required=True),
        thread=_param("boolean", "read the thread it starts"),
    )

    async def run(self, args: Mapping[str, Any], context: ToolContext) -> str:
        event_id = str(args.get("event_id", ""))
        if not event_id.startswith("$"):
            raise ToolError("event_id must look like $abc...")
        since = await visible_since(context)
        event = await context.reader.get_event(context.room_id, event_id)
        if event is None or not _text_events([event], since):
            raise ToolError("no such message in this room, or the user may not read it")
        if not args.get("thread"):
            return _line(event, context)
        events = await context.reader.thread_events(context.room_id, event_id, 100)
        turns = conversation_turns([event, *events], Conversation(context.room_id, event_id),
                                   context.bot_user_id, after_ts=since - 1)
        return "\n".join(f"{context.display_name(t.sender)}: {t.text}" for t in turns)


class ListMembers:
    spec = _tool("list_members",
                 "List the people who are members of this room (display name and user ID).")

    async def run(self, args: Mapping[str, Any], context: ToolContext) -> str:
        await visible_since(context)
        members = await context.reader.members(context.room_id)
        return "\n".join(f"{name} ({user_id})" for user_id, name in sorted(members,
                                                                         key=lambda m: m[1]))


class CurrentDateTime:
    spec = _tool("current_datetime",
                 "The current date and time, in UTC or in a given IANA time zone.",
                 timezone=_param("string", "e.g. Europe/Paris"))

    async def run(self, args: Mapping[str, Any], context: ToolContext) -> str:
        name = str(args.get("timezone") or "UTC")
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ToolError(f"unknown time zone {name!r}") from None
        now = context.now().astimezone(zone)
        return f"{now:%A %Y-%m-%d %H:%M:%S} ({name})"


def builtin_registry(scan_events: int = 500) -> ToolRegistry:
    registry = ToolRegistry()
    for tool in (SearchRoomHistory(scan_events), ReadMessage(), ListMembers(), CurrentDateTime()):
        registry.register(tool)
    return registry
