"""A ``createRoom`` request's HTML, sanitised before Synapse builds the room's events (pure).

Why not leave it to ``check_event_allowed``: Synapse builds a new room's preset and
``initial_state`` events as one batch, each chained to the one before, and stores them
together. A replacement returned for one of them is rebuilt on the room's *stored* forward
extremities instead (``_rebuild_event_after_third_party_rules``), so it hangs off the
creator's join beside the preset's power levels and join rules: the new room's history forks
and that event is authorised against a state without them. Sanitising the request first, in
``on_create_room``, makes every event of the batch clean already, so ``check_event_allowed``
has nothing to replace. The same decision (:func:`check_content`) is applied to each event's
content as it would be later.

Room upgrades copy the old room's state without calling ``on_create_room``: HTML stored there
before this guard existed, or sent by another server, is still sanitised by
``check_event_allowed``, at the cost of that fork in the new room (which state resolution
merges; the room works).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hearth.synapse_modules.content_guard.message_verdict import (
    Rewrite,
    check_content,
    plain_json,
)
from hearth.synapse_modules.content_guard.validate import Limits, Problem

# Request keys whose value becomes the whole content of one event of the new room.
CONTENT_KEYS: tuple[tuple[str, str], ...] = (
    ("creation_content", "m.room.create"),
    ("power_level_content_override", "m.room.power_levels"),
)


@dataclass(frozen=True)
class RoomConfigRewrite:
    """Replace these top-level request keys; ``rewrites`` are by event type, for metrics."""

    updates: dict[str, Any]
    rewrites: tuple[tuple[str, Rewrite], ...]


def _refusal(where: str, problem: Problem) -> Problem:
    return Problem(problem.reason, f"In {where}: {problem.message}")


def check_room_config(
    config: Mapping[str, Any], limits: Limits
) -> RoomConfigRewrite | Problem | None:
    """The request keys to replace so the room's events carry only safe HTML (None: none).

    Entries Synapse itself will refuse (``initial_state`` that is not a list of objects with a
    string ``type`` and an object ``content``) are left for Synapse to refuse.
    """
    updates: dict[str, Any] = {}
    rewrites: list[tuple[str, Rewrite]] = []
    for key, event_type in CONTENT_KEYS:
        content = config.get(key)
        if not isinstance(content, Mapping):
            continue
        verdict = check_content(event_type, content, limits)
        if isinstance(verdict, Problem):
            return _refusal(key, verdict)
        if isinstance(verdict, Rewrite):
            updates[key] = verdict.content
            rewrites.append((event_type, verdict))
    initial_state = config.get("initial_state")
    if isinstance(initial_state, list | tuple):
        entries = list(initial_state)
        changed = False
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                continue
            state_type, content = entry.get("type"), entry.get("content")
            if not isinstance(state_type, str) or not isinstance(content, Mapping):
                continue
            verdict = check_content(state_type, content, limits)
            if isinstance(verdict, Problem):
                return _refusal(f"initial_state[{index}] ({state_type})", verdict)
            if isinstance(verdict, Rewrite):
                entries[index] = {**plain_json(entry), "content": verdict.content}
                rewrites.append((state_type, verdict))
                changed = True
        if changed:
            updates["initial_state"] = entries
    if not updates:
        return None
    return RoomConfigRewrite(updates, tuple(rewrites))
