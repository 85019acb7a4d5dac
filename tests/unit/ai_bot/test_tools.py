"""Tools: the registry's error handling and built-ins acting with the user's permissions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hearth.ai_bot.llm.types import ToolCall
from hearth.ai_bot.routing import Conversation
from hearth.ai_bot.tools.builtins import builtin_registry
from hearth.ai_bot.tools.registry import ToolContext


def ev(event_id: str, sender: str, body: str, ts: int) -> dict[str, Any]:
    return {"type": "m.room.message", "event_id": event_id, "sender": sender,
            "origin_server_ts": ts, "content": {"msgtype": "m.text", "body": body}}


class Reader:
    def __init__(self, visibility: str = "shared", joined: bool = True) -> None:
        self.visibility = visibility
        self.joined = joined
        self.events = [ev("$1", "@a:hs", "the launch date is friday", 1000),
                       ev("$2", "@b:hs", "lunch at noon", 5000),
                       ev("$3", "@a:hs", "launch moved to monday", 9000)]

    async def recent_events(self, room_id: str, limit: int) -> list[dict[str, Any]]:
        return self.events[-limit:]

    async def thread_events(self, room_id: str, root: str, limit: int) -> list[dict[str, Any]]:
        reply = ev("$4", "@b:hs", "ok", 9500)
        reply["content"]["m.relates_to"] = {"rel_type": "m.thread", "event_id": root}
        return [reply]

    async def get_event(self, room_id: str, event_id: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e["event_id"] == event_id), None)

    async def members(self, room_id: str) -> list[tuple[str, str]]:
        return [("@a:hs", "Alice"), ("@b:hs", "Bob")]

    async def membership(self, room_id: str, user_id: str) -> tuple[str | None, int]:
        return ("join", 4000) if self.joined else (None, 0)

    async def history_visibility(self, room_id: str) -> str:
        return self.visibility


def context(reader: Reader) -> ToolContext:
    names = {"@a:hs": "Alice", "@b:hs": "Bob"}
    return ToolContext(user_id="@b:hs", conversation=Conversation("!r"), reader=reader,
                       bot_user_id="@ai:hs", display_name=lambda u: names.get(u, u),
                       now=lambda: datetime(2025, 3, 4, 12, 0, tzinfo=UTC))


async def run(name: str, args: dict[str, Any], reader: Reader | None = None) -> str:
    call = ToolCall("c1", name, json.dumps(args))
    return await builtin_registry().call(call, context(reader or Reader()))


async def test_tools_search_history_newest_first() -> None:
    """search_room_history finds messages with every word, newest first."""
    found = await run("search_room_history", {"query": "launch"})
    assert found.index("monday") < found.index("friday")
    assert "Alice ($3)" in found and "lunch" not in found


async def test_tools_respect_joined_history_visibility() -> None:
    """Under 'joined' visibility the user sees nothing from before they joined."""
    found = await run("search_room_history", {"query": "launch"}, Reader("joined"))
    assert "monday" in found and "friday" not in found
    refused = await run("read_message", {"event_id": "$1"}, Reader("joined"))
    assert refused.startswith("error:")


async def test_tools_refuse_non_members() -> None:
    """A user who is not in the room gets an error, not the room's messages."""
    result = await run("list_members", {}, Reader(joined=False))
    assert result == "error: the asking user is not a member of this room"


async def test_tools_read_message_thread_members_and_time() -> None:
    """read_message (and its thread), list_members and current_datetime answer."""
    assert "lunch at noon" in await run("read_message", {"event_id": "$2"})
    thread = await run("read_message", {"event_id": "$1", "thread": True})
    assert thread.splitlines() == ["Alice: the launch date is friday", "Bob: ok"]
    assert "Alice (@a:hs)" in await run("list_members", {})
    assert await run("current_datetime", {"timezone": "Europe/Paris"}) == (
        "Tuesday 2025-03-04 13:00:00 (Europe/Paris)")


async def test_tools_errors_go_back_to_the_model() -> None:
    """Unknown tools, bad JSON, bad arguments and crashes come back as error text."""
    registry = builtin_registry()
    ctx = context(Reader())
    assert "no tool called" in await registry.call(ToolCall("1", "nope", "{}"), ctx)
    assert "not valid JSON" in await registry.call(ToolCall("1", "list_members", "{"), ctx)
    assert "JSON object" in await registry.call(ToolCall("1", "list_members", "[]"), ctx)
    assert "unknown time zone" in await run("current_datetime", {"timezone": "Mars/Base"})
    assert "empty" in await run("search_room_history", {"query": " "})

    class Broken(Reader):
        async def members(self, room_id: str) -> list[tuple[str, str]]:
            raise RuntimeError("boom")

    assert "the tool failed (RuntimeError)" in await run("list_members", {}, Broken())
    assert [s.name for s in registry.specs()] == [
        "search_room_history", "read_message", "list_members", "current_datetime"]
