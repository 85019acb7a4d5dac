"""Pure classification of events into the kinds the metrics count (no Synapse imports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KNOWN_MSGTYPES = frozenset(
    {"m.text", "m.notice", "m.emote", "m.image", "m.file", "m.video", "m.audio", "m.location"}
)


def message_kind(event_type: str, content: Mapping[str, Any]) -> str | None:
    """The label for a message event, or None when the event is not a message we count.

    Edits count as ``edit`` rather than as another message, encrypted events as
    ``encrypted`` (their type is hidden), and unknown msgtypes as ``other`` so a client
    cannot blow up the label cardinality.
    """
    if event_type == "m.room.encrypted":
        return "encrypted"
    if event_type != "m.room.message":
        return None
    relates = content.get("m.relates_to")
    if isinstance(relates, Mapping) and relates.get("rel_type") == "m.replace":
        return "edit"
    msgtype = content.get("msgtype")
    if isinstance(msgtype, str) and msgtype in KNOWN_MSGTYPES:
        return msgtype
    return "other"
