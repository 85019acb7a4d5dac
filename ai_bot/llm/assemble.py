"""Turns streamed tool-call deltas into complete calls.

The API sends a call's id and name in its first delta and its JSON arguments in fragments
keyed by ``index``; several calls may interleave. Only whole calls leave this object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hearth.ai_bot.llm.types import ToolCall


@dataclass
class _Partial:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ToolCallAssembler:
    """Collects deltas by index; ``calls()`` gives them in index order."""

    def __init__(self) -> None:
        self._parts: dict[int, _Partial] = {}

    def add(self, index: int | None, call_id: str | None, name: str | None,
            arguments: str | None) -> None:
        """Merge one delta (any field may be missing).

        Some servers leave out ``index``: then a new id starts a new call and a delta without
        one continues the latest call.
        """
        if index is None:
            index = self._index_for(call_id)
        part = self._parts.setdefault(index, _Partial())
        if call_id:
            part.id = call_id
        if name and not part.name:  # some servers repeat the name in every delta
            part.name = name
        if arguments:
            part.arguments.append(arguments)

    def _index_for(self, call_id: str | None) -> int:
        for index, part in self._parts.items():
            if call_id and part.id == call_id:
                return index
        if call_id or not self._parts:
            return max(self._parts, default=-1) + 1
        return max(self._parts)

    def __bool__(self) -> bool:
        return bool(self._parts)

    def calls(self) -> tuple[ToolCall, ...]:
        """The assembled calls; a call the server sent no id for gets a stable made-up one."""
        return tuple(
            ToolCall(id=part.id or f"call_{index}", name=part.name,
                     arguments="".join(part.arguments) or "{}")
            for index, part in sorted(self._parts.items())
        )
