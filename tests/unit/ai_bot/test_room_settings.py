"""Per-room settings: read from room account data once, saved through, kept over restarts."""

from __future__ import annotations

from hearth.ai_bot.context.room_state import ACCOUNT_DATA_TYPE, RoomSettings
from hearth.ai_bot.room_settings import RoomSettingsCache
from hearth.ai_bot.routing import Conversation
from tests.unit.ai_bot.fake_matrix import ROOM, FakeMatrix


async def test_room_settings_default_when_room_has_none() -> None:
    """A room the bot never configured has no system prompt and no model choice."""
    settings = await RoomSettingsCache(FakeMatrix()).get(ROOM)
    assert settings == RoomSettings()


async def test_room_settings_saved_survive_a_restart() -> None:
    """What a command changed is in the room's account data and read back after a restart."""
    matrix = FakeMatrix()
    changed = RoomSettings(system_prompt="Be brief.").with_model(Conversation(ROOM), "gpt-4o")
    await RoomSettingsCache(matrix).save(ROOM, changed)
    assert matrix.room_data[(ROOM, ACCOUNT_DATA_TYPE)] == changed.to_json()
    restarted = RoomSettingsCache(matrix)
    assert await restarted.get(ROOM) == changed


async def test_room_settings_read_from_the_homeserver_once() -> None:
    """Prompts after the first do not ask the homeserver again."""
    matrix = FakeMatrix()
    cache = RoomSettingsCache(matrix)
    for _ in range(3):
        await cache.get(ROOM)
    await cache.get("!other:hs")
    assert matrix.room_data_reads == 2
