"""The one fake Matrix client of the bot's unit tests.

It stands in for ``MatrixClient`` wherever a piece of the bot takes one of the narrow views in
``ai_bot.matrix.protocols``: it keeps a small room timeline (the test's events and everything
the bot sent), records what a user would see (messages, edits, notices, typing, receipts,
joins and leaves) and can be told to fail: a send refused with M_LIMIT_EXCEEDED and a
``retry_after_ms``, a failed send, a refused sync. ``FakeCrypto`` stands in for nio's
crypto side (keys that arrive, key upkeep) for the encryption chores.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from nio import Event, MatrixRoom, MegolmEvent, ReactionEvent, RedactionEvent, RoomMessageText
from nio.exceptions import EncryptionError

from hearth.ai_bot.matrix.errors import MatrixError, RateLimited, SendFailed
from hearth.ai_bot.routing import LIVE_KEY, NOTICE_KEY

BOT = "@ai:hs"
ALICE = "@alice:hs"
BOB = "@bob:hs"
ROOM = "!room:hs"


@dataclass(frozen=True)
class Sent:
    """One event the bot sent."""

    room_id: str
    event_id: str
    content: dict[str, Any]
    txn_id: str

    @property
    def replaces(self) -> str | None:
        """The event this one edits, if it is an edit."""
        rel = self.content.get("m.relates_to") or {}
        return rel.get("event_id") if rel.get("rel_type") == "m.replace" else None

    @property
    def shown(self) -> dict[str, Any]:
        """The content a client shows for this event (an edit's new content)."""
        return dict(self.content.get("m.new_content") or self.content)


class FakeMatrix:
    """A fake of the bot's Matrix client (see the module docstring)."""

    def __init__(self, user_id: str = BOT) -> None:
        self._user_id = user_id
        self._ids = itertools.count(1)
        self._ts = itertools.count(int(time.time() * 1000))  # recent: the bot answers
        self.events: dict[str, dict[str, Any]] = {}  # the timeline, by event ID
        self.sent: list[Sent] = []
        self.typing_log: list[tuple[str, bool]] = []
        self.receipts: list[tuple[str, str]] = []
        self.room_data: dict[tuple[str, str], dict[str, Any]] = {}
        self.room_data_reads = 0
        self.power_levels: dict[str, int] = {}
        self.names: dict[str, str] = {}
        self.joined: list[str] = []
        self.left: list[tuple[str, str]] = []
        self.send_failures: list[Exception] = []
        self.join_failures = 0
        self.sync_failures: list[Exception] = []
        self.syncs: list[bool] = []

    # -- telling it to fail ---------------------------------------------------------------

    def rate_limit_next_send(self, retry_after_ms: int) -> None:
        """The next send is refused with 429 M_LIMIT_EXCEEDED."""
        self.send_failures.append(RateLimited(retry_after_ms))

    def fail_next_send(self, retryable: bool = True) -> None:
        self.send_failures.append(SendFailed("M_UNKNOWN: try again", retryable))

    def refuse_next_sync(self, errcode: str = "M_LIMIT_EXCEEDED") -> None:
        self.sync_failures.append(MatrixError(429, errcode, "sync refused"))

    # -- the room, as a test writes it -----------------------------------------------------

    def room(self, *members: str, room_id: str = ROOM) -> MatrixRoom:
        """The room as nio's sync knows it: the bot and ``members`` joined."""
        room = MatrixRoom(room_id, self._user_id)
        for user_id in (self._user_id, *members):
            room.add_member(user_id, self.names.get(user_id), None)
        return room

    def post(self, sender: str, content: dict[str, Any], room_id: str = ROOM,
             ts: int | None = None, **extra: Any) -> RoomMessageText:
        """A message ``sender`` posts: kept in the timeline, returned as nio delivers it."""
        raw = {"type": "m.room.message", "event_id": f"$u{next(self._ids)}", "sender": sender,
               "origin_server_ts": next(self._ts) if ts is None else ts,
               "content": content, "room_id": room_id, **extra}
        self.events[raw["event_id"]] = raw
        event = Event.parse_event(raw)
        assert isinstance(event, RoomMessageText)
        return event

    def edit(self, sender: str, event_id: str, new_body: str) -> RoomMessageText:
        """``sender`` edits ``event_id`` to read ``new_body``."""
        return self.post(sender, {
            "msgtype": "m.text", "body": f"* {new_body}",
            "m.new_content": {"msgtype": "m.text", "body": new_body},
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id}})

    def reaction(self, sender: str, event_id: str, key: str = "🔁") -> ReactionEvent:
        """``sender`` reacts to ``event_id`` now."""
        event = Event.parse_event({
            "type": "m.reaction", "event_id": f"$r{next(self._ids)}", "sender": sender,
            "origin_server_ts": next(self._ts), "content": {"m.relates_to": {
                "rel_type": "m.annotation", "event_id": event_id, "key": key}}})
        assert isinstance(event, ReactionEvent)
        return event

    def redaction(self, sender: str, event_id: str) -> RedactionEvent:
        """``sender`` redacts ``event_id`` now."""
        event = Event.parse_event({
            "type": "m.room.redaction", "event_id": f"$x{next(self._ids)}", "sender": sender,
            "origin_server_ts": next(self._ts), "content": {}, "redacts": event_id})
        assert isinstance(event, RedactionEvent)
        return event

    # -- what a user sees -------------------------------------------------------------------

    def messages(self, room_id: str = ROOM) -> list[Sent]:
        """The bot's messages (not edits, not notices) in the room, in order."""
        return [s for s in self.sent if s.room_id == room_id and s.replaces is None
                and NOTICE_KEY not in s.content]

    def notices(self, room_id: str = ROOM) -> list[Sent]:
        return [s for s in self.sent if s.room_id == room_id and NOTICE_KEY in s.content]

    def edits_of(self, event_id: str) -> list[Sent]:
        return [s for s in self.sent if s.replaces == event_id]

    def shown(self, event_id: str) -> dict[str, Any]:
        """What a client shows for the bot's event now: its latest edit applied."""
        versions = [s for s in self.sent if s.event_id == event_id] + self.edits_of(event_id)
        return versions[-1].shown

    def is_final(self, event_id: str) -> bool:
        """The event's latest version is complete (no live marker)."""
        return LIVE_KEY not in self.shown(event_id)

    # -- the client's calls -------------------------------------------------------------------

    @property
    def user_id(self) -> str:
        return self._user_id

    def display_name(self, room_id: str, user_id: str) -> str:
        return self.names.get(user_id, user_id)

    async def send_message(self, room_id: str, content: dict[str, Any], txn_id: str) -> str:
        if self.send_failures:
            raise self.send_failures.pop(0)
        event_id = f"$b{next(self._ids)}"
        self.sent.append(Sent(room_id, event_id, content, txn_id))
        self.events[event_id] = {"type": "m.room.message", "event_id": event_id,
                                 "sender": self._user_id, "origin_server_ts": next(self._ts),
                                 "content": content, "room_id": room_id}
        return event_id

    async def send_notice(self, room_id: str, markdown: str,
                          relation: dict[str, Any] | None = None) -> str | None:
        content: dict[str, Any] = {"msgtype": "m.notice", "body": markdown, NOTICE_KEY: {}}
        if relation:
            content["m.relates_to"] = relation
        return await self.send_message(room_id, content, f"notice-{len(self.sent)}")

    async def typing(self, room_id: str, on: bool) -> None:
        self.typing_log.append((room_id, on))

    async def read_receipt(self, room_id: str, event_id: str) -> None:
        self.receipts.append((room_id, event_id))

    async def get_room_data(self, room_id: str, kind: str) -> dict[str, Any] | None:
        self.room_data_reads += 1
        return self.room_data.get((room_id, kind))

    async def put_room_data(self, room_id: str, kind: str, content: dict[str, Any]) -> None:
        self.room_data[(room_id, kind)] = content

    async def power_level(self, room_id: str, user_id: str) -> tuple[int, int]:
        return (self.power_levels.get(user_id, 0), 50)

    async def join_room(self, room_id: str) -> bool:
        if self.join_failures:
            self.join_failures -= 1
            return False
        self.joined.append(room_id)
        return True

    async def leave_room(self, room_id: str, reason: str) -> None:
        self.left.append((room_id, reason))

    async def sync_once(self, first: bool) -> None:
        self.syncs.append(first)
        if self.sync_failures:
            raise self.sync_failures.pop(0)

    def decrypt(self, raw: dict[str, Any], room_id: str) -> dict[str, Any]:
        return raw

    async def get_event(self, room_id: str, event_id: str) -> dict[str, Any] | None:
        found = self.events.get(event_id)
        return found if found is not None and found["room_id"] == room_id else None

    async def recent_events(self, room_id: str, limit: int) -> list[dict[str, Any]]:
        return [e for e in self.events.values() if e["room_id"] == room_id][-limit:]

    async def thread_events(self, room_id: str, root: str, limit: int) -> list[dict[str, Any]]:
        return [e for e in self.events.values() if e["room_id"] == room_id
                and (e["content"].get("m.relates_to") or {}).get("event_id") == root
                and (e["content"].get("m.relates_to") or {}).get("rel_type") == "m.thread"
                ][-limit:]

    async def members(self, room_id: str) -> list[tuple[str, str]]:
        return [(u, self.display_name(room_id, u)) for u in (self._user_id, ALICE, BOB)]

    async def membership(self, room_id: str, user_id: str) -> tuple[str | None, int]:
        return ("join", 0)

    async def history_visibility(self, room_id: str) -> str:
        return "shared"


class FakeCrypto:
    """nio's crypto side as ``Encryption`` uses it: keys it holds decrypt events, and the
    upkeep calls are counted."""

    def __init__(self, user_id: str = BOT) -> None:
        self._user_id = user_id
        self.olm: object | None = object()
        self.keys: dict[str, dict[str, Any]] = {}  # session ID → plaintext event
        self.key_requests: list[str] = []
        self.calls: list[str] = []
        self.should_upload_keys = True
        self.should_query_keys = False
        self.should_claim_keys = False

    @property
    def user_id(self) -> str:
        return self._user_id

    @staticmethod
    def encrypted(sender: str, session_id: str, ts: int | None = None) -> MegolmEvent:
        """An event for which a key is needed."""
        event = MegolmEvent.from_dict({
            "type": "m.room.encrypted", "event_id": f"$enc-{session_id}-{ts}", "sender": sender,
            "origin_server_ts": int(time.time() * 1000) if ts is None else ts,
            "content": {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "…",
                        "sender_key": "key", "session_id": session_id, "device_id": "DEV"}})
        assert isinstance(event, MegolmEvent)
        return event

    async def request_room_key(self, event: MegolmEvent) -> object:
        self.key_requests.append(str(event.session_id))
        return None

    def decrypt_event(self, event: MegolmEvent) -> object:
        plaintext = self.keys.get(str(event.session_id))
        if plaintext is None:
            raise EncryptionError("no key")
        return Event.parse_event({**plaintext, "event_id": event.event_id,
                                  "sender": event.sender,
                                  "origin_server_ts": event.server_timestamp})

    async def keys_upload(self) -> object:
        self.calls.append("keys_upload")
        self.should_upload_keys = False
        return None

    async def keys_query(self) -> object:
        self.calls.append("keys_query")
        return None

    async def keys_claim(self, user_set: Any) -> object:
        self.calls.append("keys_claim")
        return None

    def get_users_for_key_claiming(self) -> dict[str, list[str]]:
        return {}

    async def send_to_device_messages(self) -> object:
        self.calls.append("send_to_device_messages")
        return None
