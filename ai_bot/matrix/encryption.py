"""End-to-end encryption chores of the bot, run around nio's sync.

nio decrypts what it can during sync; this module does the rest: it asks for the keys of
events it could not decrypt (and tells the sender once per session, so nobody waits for an
answer that cannot come), retries those events after each sync, keeps the device's one-time
keys and to-device messages flowing, and cross-signs the bot's device once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from nio import MatrixRoom, MegolmEvent, RoomMessageText
from nio.exceptions import EncryptionError, LocalProtocolError

from hearth.ai_bot import strings
from hearth.ai_bot.matrix.protocols import Notices
from hearth.ai_bot.routing import too_old

logger = logging.getLogger(__name__)

TextHandler = Callable[[MatrixRoom, RoomMessageText], None]


class E2eeClient(Protocol):
    """The parts of nio's AsyncClient that do the crypto work."""

    @property
    def user_id(self) -> str: ...

    @property
    def olm(self) -> Any: ...

    @property
    def should_upload_keys(self) -> bool: ...

    @property
    def should_query_keys(self) -> bool: ...

    @property
    def should_claim_keys(self) -> bool: ...

    async def request_room_key(self, event: MegolmEvent) -> object: ...

    def decrypt_event(self, event: MegolmEvent) -> object: ...

    async def keys_upload(self) -> object: ...

    async def keys_query(self) -> object: ...

    async def keys_claim(self, user_set: Any) -> object: ...

    def get_users_for_key_claiming(self) -> dict[str, list[str]]: ...

    async def send_to_device_messages(self) -> object: ...


class Encryption:
    """Key requests, retries of undecrypted events, key upkeep and cross-signing."""

    def __init__(self, nio: E2eeClient, notices: Notices, *, on_text: TextHandler,
                 max_event_age_s: float,
                 cross_sign: Callable[[], Awaitable[object]] | None = None) -> None:
        self.nio = nio
        self.notices = notices
        self.on_text = on_text
        self.max_event_age_s = max_event_age_s
        self.cross_sign = cross_sign
        self.cross_signed = cross_sign is None
        self.undecrypted: list[tuple[MatrixRoom, MegolmEvent]] = []
        self._told: set[tuple[str, str]] = set()

    def _too_old(self, server_ts: int) -> bool:
        return too_old(server_ts, self.max_event_age_s, time.time() * 1000)

    async def on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        """Ask for the key, tell the sender once, keep the event to retry; never leave."""
        if event.sender == self.nio.user_id or self._too_old(event.server_timestamp):
            return
        with contextlib.suppress(LocalProtocolError):
            await self.nio.request_room_key(event)
        self.undecrypted.append((room, event))
        key = (room.room_id, str(event.session_id))
        if key not in self._told:
            self._told.add(key)
            await self.notices.send_notice(room.room_id, strings.CANNOT_DECRYPT,
                                           {"m.in_reply_to": {"event_id": event.event_id}})

    def retry_undecrypted(self) -> None:
        """Events whose keys arrived since are handled as if they came now."""
        waiting, self.undecrypted = self.undecrypted, []
        for room, event in waiting:
            try:
                decrypted = self.nio.decrypt_event(event)
            except (EncryptionError, LocalProtocolError):
                if not self._too_old(event.server_timestamp):
                    self.undecrypted.append((room, event))
                continue
            if isinstance(decrypted, RoomMessageText):
                self.on_text(room, decrypted)

    async def after_sync(self) -> None:
        """Upload, query and claim keys as nio asks, send queued to-device messages, retry
        undecrypted events, and cross-sign the device until that has worked once."""
        nio = self.nio
        if nio.should_upload_keys:
            await nio.keys_upload()
        if nio.should_query_keys:
            await nio.keys_query()
        if nio.should_claim_keys:
            await nio.keys_claim(nio.get_users_for_key_claiming())
        await nio.send_to_device_messages()
        if self.undecrypted:
            self.retry_undecrypted()
        if not self.cross_signed and self.cross_sign is not None and nio.olm is not None:
            try:
                await self.cross_sign()
                self.cross_signed = True
            except Exception as exc:
                logger.warning("cross-signing not done yet: %s", exc)
