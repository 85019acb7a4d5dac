"""The tool interface and registry.

A tool is an object with a ``spec`` (name, description, JSON-schema parameters, as the model
sees it) and ``async run(args, context) -> str``. It acts with the permissions of the user
who asked (``context.user_id``), never with the bot's: a tool checks what that user may see.
Raise ``ToolError`` with a sentence for the model; anything else is reported the same way, so
a failing tool never ends the answer — the model reads the error and carries on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hearth.ai_bot.llm.types import ToolCall, ToolSpec
from hearth.ai_bot.routing import Conversation

logger = logging.getLogger(__name__)
MAX_RESULT_CHARS = 6000


class ToolError(Exception):
    """A failure the model should be told about."""


class RoomReader(Protocol):
    """What tools may read of a room (the bot's view; tools filter it for the user)."""

    async def recent_events(self, room_id: str, limit: int) -> list[dict[str, Any]]: ...

    async def thread_events(self, room_id: str, root: str, limit: int) -> list[dict[str, Any]]: ...

    async def get_event(self, room_id: str, event_id: str) -> dict[str, Any] | None: ...

    async def members(self, room_id: str) -> list[tuple[str, str]]: ...

    async def membership(self, room_id: str, user_id: str) -> tuple[str | None, int]: ...

    async def history_visibility(self, room_id: str) -> str: ...


@dataclass(frozen=True)
class ToolContext:
    """Who asked, where, and how to read the room."""

    user_id: str
    conversation: Conversation
    reader: RoomReader
    bot_user_id: str
    display_name: Callable[[str], str]
    now: Callable[[], datetime]

    @property
    def room_id(self) -> str:
        return self.conversation.room_id


class Tool(Protocol):
    spec: ToolSpec

    async def run(self, args: Mapping[str, Any], context: ToolContext) -> str: ...


class ToolRegistry:
    """The tools offered to the model, by name."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, tool: Tool) -> None:
        if tool.spec.name in self._tools:
            raise ValueError(f"tool {tool.spec.name!r} registered twice")
        self._tools[tool.spec.name] = tool

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(tool.spec for tool in self._tools.values())

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    async def call(self, call: ToolCall, context: ToolContext) -> str:
        """Run one call; errors come back as text for the model."""
        tool = self._tools.get(call.name)
        if tool is None:
            return f"error: there is no tool called {call.name!r}"
        try:
            args = json.loads(call.arguments or "{}")
        except json.JSONDecodeError as exc:
            return f"error: the arguments are not valid JSON ({exc.msg})"
        if not isinstance(args, dict):
            return "error: the arguments must be a JSON object"
        try:
            result = await tool.run(args, context)
        except ToolError as exc:
            return f"error: {exc}"
        except Exception as exc:
            logger.exception("tool %s failed", call.name)
            return f"error: the tool failed ({type(exc).__name__})"
        if len(result) > MAX_RESULT_CHARS:
            result = result[:MAX_RESULT_CHARS] + "\n[truncated]"
        return result
