"""The bot's settings per room (model, system prompt, resets), cached in memory.

They live in the bot's room account data, so they survive restarts and need no database;
the cache saves a homeserver round trip on every prompt. Only the bot writes them, so the
cache cannot go stale.
"""

from __future__ import annotations

from hearth.ai_bot.context.room_state import ACCOUNT_DATA_TYPE, RoomSettings
from hearth.ai_bot.matrix.protocols import RoomDataStore


class RoomSettingsCache:
    """Loads a room's settings once, saves changes through to the account data."""

    def __init__(self, store: RoomDataStore) -> None:
        self.store = store
        self._settings: dict[str, RoomSettings] = {}

    async def get(self, room_id: str) -> RoomSettings:
        if room_id not in self._settings:
            raw = await self.store.get_room_data(room_id, ACCOUNT_DATA_TYPE)
            self._settings[room_id] = RoomSettings.from_json(raw)
        return self._settings[room_id]

    async def save(self, room_id: str, settings: RoomSettings) -> None:
        self._settings[room_id] = settings
        await self.store.put_room_data(room_id, ACCOUNT_DATA_TYPE, settings.to_json())
