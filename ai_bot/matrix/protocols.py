"""The narrow views of the Matrix client that the bot's pieces depend on.

Each piece names only the calls it makes, so its unit tests can hand it a small fake instead
of a logged-in nio client; ``MatrixClient`` satisfies all of them.
"""

from __future__ import annotations

from typing import Any, Protocol

from hearth.ai_bot.tools.registry import RoomReader


class EventSource(Protocol):
    """Reads single events back (a restored answer's prompt, a replied-to message)."""

    @property
    def user_id(self) -> str: ...

    async def get_event(self, room_id: str, event_id: str) -> dict[str, Any] | None: ...

    def decrypt(self, raw: dict[str, Any], room_id: str) -> dict[str, Any]: ...


class RoomDataStore(Protocol):
    """The bot's per-room account data."""

    async def get_room_data(self, room_id: str, kind: str) -> dict[str, Any] | None: ...

    async def put_room_data(self, room_id: str, kind: str, content: dict[str, Any]) -> None: ...


class Notices(Protocol):
    """What a user sees of the bot besides its answers: notices, typing, read receipts."""

    async def send_notice(self, room_id: str, markdown: str,
                          relation: dict[str, Any] | None = None) -> str | None: ...

    async def typing(self, room_id: str, on: bool) -> None: ...

    async def read_receipt(self, room_id: str, event_id: str) -> None: ...


class Memberships(Protocol):
    """Joining and leaving rooms, and who may change a room's settings."""

    async def join_room(self, room_id: str) -> bool: ...

    async def leave_room(self, room_id: str, reason: str) -> None: ...

    async def power_level(self, room_id: str, user_id: str) -> tuple[int, int]: ...


class Syncer(Protocol):
    """One sync with the homeserver (event callbacks fire inside it)."""

    async def sync_once(self, first: bool) -> None: ...


class Sender(Protocol):
    """Sends one room event and returns its event ID (raises RateLimited or SendFailed)."""

    async def send_message(self, room_id: str, content: dict[str, Any], txn_id: str) -> str: ...


class BotMatrix(EventSource, RoomDataStore, Notices, Memberships, Syncer, Sender, RoomReader,
                Protocol):
    """Everything the bot does with Matrix apart from encryption (which is nio's own)."""

    def display_name(self, room_id: str, user_id: str) -> str: ...
