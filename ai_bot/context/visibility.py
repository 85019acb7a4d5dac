"""What of a room's history a user may read. The bot reads rooms as itself, so everything it
passes on for a user — the conversation context and the tools' results — is filtered here:
under ``joined`` or ``invited`` history visibility nothing from before the user joined."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hearth.ai_bot.tools.registry import RoomReader


async def visible_since(reader: RoomReader, room_id: str, user_id: str) -> int | None:
    """The earliest server timestamp ``user_id`` may read in ``room_id`` (0: all of it), or
    None when they are not a member now."""
    membership, joined_at = await reader.membership(room_id, user_id)
    if membership != "join":
        return None
    visibility = await reader.history_visibility(room_id)
    # The join is a conservative stand-in for the invite under "invited".
    return joined_at if visibility in ("joined", "invited") else 0
