"""The bot's Matrix client: matrix-nio's AsyncClient with end-to-end encryption.

nio 0.26 does the Olm/Megolm work with vodozemac and keeps its crypto store (SQLite) in
``<data_dir>/crypto``; the device ID is stable across restarts (see ``provision``), so the
store stays valid. nio's own retry loops are turned off (``max_limit_exceeded=0``,
``max_timeouts=0``): the edit scheduler handles 429 for the whole account, and the sync loop
backs off on network errors.

The bot's access token expires (a refreshable session) and is renewed: every call that meets
401 ``M_UNKNOWN_TOKEN`` renews the session (``session.Session``, once for all callers) and is
tried once more with the new token.

This module also reads rooms for the context builder and the tools (``RoomReader``), decrypting
history where it can, and keeps the bot's per-room settings in room account data.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from nio import JoinResponse, MegolmEvent, RoomSendResponse, SyncError
from nio.client.async_client import AsyncClient, AsyncClientConfig
from nio.exceptions import EncryptionError, LocalProtocolError

from hearth.ai_bot.matrix.errors import MatrixError, RateLimited, SendFailed
from hearth.ai_bot.matrix.session import Session
from hearth.ai_bot.provision import Credentials
from hearth.ai_bot.render import markdown_to_html
from hearth.ai_bot.routing import NOTICE_KEY

logger = logging.getLogger(__name__)

V3 = "/_matrix/client/v3"
V1 = "/_matrix/client/v1"


def q(value: str) -> str:
    return quote(value, safe="")


def _expired(response: Any) -> bool:
    """A nio error answer saying the access token is no longer valid."""
    return getattr(response, "status_code", None) == "M_UNKNOWN_TOKEN"


def build_nio_client(homeserver: str, credentials: Credentials, store_dir: Path,
                     encryption: bool) -> AsyncClient:
    """An AsyncClient logged in with the stored credentials, crypto store loaded."""
    store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = AsyncClientConfig(
        encryption_enabled=encryption,
        store_sync_tokens=True,
        max_limit_exceeded=0,
        max_timeouts=0,
        request_timeout=60,
    )
    client = AsyncClient(homeserver, credentials.user_id, device_id=credentials.device_id,
                         store_path=str(store_dir), config=config)
    client.restore_login(credentials.user_id, credentials.device_id, credentials.access_token)
    return client


class MatrixClient:
    """Thin, typed calls the bot needs, on top of nio."""

    def __init__(self, nio: AsyncClient, session: Session | None = None) -> None:
        self.nio = nio
        self.session = session

    def _token(self) -> str:
        """The session's current token, also put back into nio (which forgets its token when
        the homeserver answers with a soft logout)."""
        if self.session is not None:
            self.nio.access_token = self.session.token
        return str(self.nio.access_token)

    async def _renewed(self, failed: str) -> bool:
        """After a 401 M_UNKNOWN_TOKEN with ``failed``: renew the session; whether to retry."""
        if self.session is None:
            return False
        try:
            await self.session.renew(failed)
        except Exception as exc:
            logger.warning("could not renew the bot's session: %s", exc)
            return False
        self._token()
        return True

    @property
    def user_id(self) -> str:
        return str(self.nio.user_id)

    def display_name(self, room_id: str, user_id: str) -> str:
        """The user's display name in the room as synced (the user ID when unknown)."""
        room = self.nio.rooms.get(room_id)
        if room is not None and user_id in room.users:
            return str(room.users[user_id].display_name or user_id)
        return user_id

    # -- raw requests --------------------------------------------------------------------

    async def request(self, method: str, path: str, body: Any = None,
                      query: Mapping[str, Any] | None = None, timeout: float = 30.0) -> Any:
        """One client-server call by path; raises MatrixError for error answers."""
        if query:
            path = f"{path}?{urlencode(query)}"
        data = None if body is None else json.dumps(body)
        for attempt in range(2):
            token = self._token()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            response = await self.nio.send(method, path, data, headers, timeout=timeout)
            try:
                payload = await response.json(content_type=None)
            except (ValueError, TypeError):
                payload = {}
            finally:
                response.release()
            if (response.status != 401 or attempt > 0 or not isinstance(payload, dict)
                    or payload.get("errcode") != "M_UNKNOWN_TOKEN"
                    or not await self._renewed(token)):
                break
        if response.status >= 400:
            payload = payload if isinstance(payload, dict) else {}
            raise MatrixError(response.status, str(payload.get("errcode", "")),
                              str(payload.get("error", "")),
                              int(payload.get("retry_after_ms", 0) or 0))
        return payload

    # -- sending -------------------------------------------------------------------------

    async def send_message(self, room_id: str, content: dict[str, Any], txn_id: str) -> str:
        """Send (encrypting in encrypted rooms); the scheduler's ``Sender``."""
        try:
            token = self._token()
            response = await self.nio.room_send(room_id, "m.room.message", content, tx_id=txn_id,
                                                ignore_unverified_devices=True)
            if _expired(response) and await self._renewed(token):
                response = await self.nio.room_send(room_id, "m.room.message", content,
                                                    tx_id=txn_id, ignore_unverified_devices=True)
        except LocalProtocolError as exc:
            raise SendFailed(f"not sendable: {exc}", retryable=True) from exc
        if isinstance(response, RoomSendResponse):
            return str(response.event_id)
        status = getattr(response, "status_code", None)
        if status == "M_LIMIT_EXCEEDED":
            raise RateLimited(int(getattr(response, "retry_after_ms", 0) or 1000))
        transport = getattr(response, "transport_response", None)
        http_status = getattr(transport, "status", 0) or 0
        retryable = http_status == 0 or http_status >= 500 or status in (None, "M_UNKNOWN")
        raise SendFailed(f"{status}: {getattr(response, 'message', response)}", retryable)

    async def send_notice(self, room_id: str, markdown: str,
                          relation: dict[str, Any] | None = None) -> str | None:
        """A short bot notice (command replies, warnings), left out of the model's context."""
        content: dict[str, Any] = {
            "msgtype": "m.notice", "body": markdown, "format": "org.matrix.custom.html",
            "formatted_body": markdown_to_html(markdown), NOTICE_KEY: {}, "m.mentions": {},
        }
        if relation:
            content["m.relates_to"] = relation
        for attempt in range(5):
            try:
                return await self.send_message(room_id, content, txn_id=_txn())
            except RateLimited as limited:
                await asyncio.sleep(limited.retry_after_ms / 1000)
            except SendFailed as failure:
                if not failure.retryable:
                    break
                await asyncio.sleep(2 ** attempt)
            except Exception as exc:  # network
                logger.warning("notice not sent yet: %s", exc)
                await asyncio.sleep(2 ** attempt)
        logger.error("could not send a notice to %s", room_id)
        return None

    async def typing(self, room_id: str, on: bool) -> None:
        try:
            await self.request("PUT", f"{V3}/rooms/{q(room_id)}/typing/{q(self.user_id)}",
                               {"typing": on, "timeout": 30000} if on else {"typing": False})
        except Exception as exc:
            logger.debug("typing notice failed: %s", exc)

    async def read_receipt(self, room_id: str, event_id: str) -> None:
        try:
            await self.request("POST", f"{V3}/rooms/{q(room_id)}/receipt/m.read/{q(event_id)}",
                               {})
        except Exception as exc:
            logger.debug("read receipt failed: %s", exc)

    async def react(self, room_id: str, event_id: str, key: str) -> None:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id,
                                    "key": key}}
        try:
            self._token()
            await self.nio.room_send(room_id, "m.reaction", content,
                                     ignore_unverified_devices=True)
        except Exception as exc:
            logger.debug("reaction failed: %s", exc)

    # -- membership and sync ------------------------------------------------------------

    async def join_room(self, room_id: str) -> bool:
        """Join (accepting an invite); False when the homeserver refused or was unreachable."""
        token = self._token()
        result = await self.nio.join(room_id)
        if _expired(result) and await self._renewed(token):
            result = await self.nio.join(room_id)
        return isinstance(result, JoinResponse)

    async def leave_room(self, room_id: str, reason: str) -> None:
        """Leave (or decline an invite), saying why."""
        await self.request("POST", f"{V3}/rooms/{q(room_id)}/leave", {"reason": reason})

    async def sync_once(self, first: bool) -> None:
        """One sync (the first at once with full state, later ones long-polling); raises
        MatrixError when the homeserver refuses it. nio fires the event callbacks."""
        token = self._token()
        response = await self.nio.sync(timeout=0 if first else 30_000,
                                       full_state=first or None)
        if _expired(response) and await self._renewed(token):
            response = await self.nio.sync(timeout=0 if first else 30_000,
                                           full_state=first or None)
        if isinstance(response, SyncError):
            raise MatrixError(0, str(response.status_code or ""),
                              f"sync refused: {response.message}")

    # -- room account data (the bot's per-room settings) ---------------------------------

    async def get_room_data(self, room_id: str, kind: str) -> dict[str, Any] | None:
        try:
            found = await self.request(
                "GET", f"{V3}/user/{q(self.user_id)}/rooms/{q(room_id)}/account_data/{kind}")
        except MatrixError as exc:
            if exc.status == 404:
                return None
            raise
        return found if isinstance(found, dict) else None

    async def put_room_data(self, room_id: str, kind: str, content: dict[str, Any]) -> None:
        await self.request(
            "PUT", f"{V3}/user/{q(self.user_id)}/rooms/{q(room_id)}/account_data/{kind}", content)

    # -- reading rooms (RoomReader) ------------------------------------------------------

    def decrypt(self, raw: dict[str, Any], room_id: str) -> dict[str, Any]:
        """The decrypted form of an encrypted event when we hold its key, else ``raw``."""
        if raw.get("type") != "m.room.encrypted" or not raw.get("content"):
            return raw
        try:
            event = MegolmEvent.from_dict({**raw, "room_id": room_id})
            if not isinstance(event, MegolmEvent):
                return raw
            decrypted = self.nio.decrypt_event(event)
        except (EncryptionError, LocalProtocolError, KeyError, ValueError, AttributeError):
            return raw
        source = getattr(decrypted, "source", None)
        if not isinstance(source, dict):
            return raw
        merged = {**raw, **source}
        merged["unsigned"] = raw.get("unsigned", {})
        return merged

    async def recent_events(self, room_id: str, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` recent timeline events, oldest first, decrypted where possible."""
        events = await self._pages(f"{V3}/rooms/{q(room_id)}/messages", "end", limit)
        return [self.decrypt(e, room_id) for e in reversed(events)]

    async def _pages(self, path: str, next_key: str, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` events of a paginated listing, newest first (``dir=b``)."""
        events: list[dict[str, Any]] = []
        token: str | None = None
        while len(events) < limit:
            query: dict[str, Any] = {"dir": "b", "limit": min(100, limit - len(events))}
            if token:
                query["from"] = token
            page = await self.request("GET", path, query=query)
            chunk = page.get("chunk", [])
            events.extend(chunk)
            token = page.get(next_key)
            if not chunk or not token:
                break
        return events

    async def thread_events(self, room_id: str, root: str, limit: int) -> list[dict[str, Any]]:
        """Events of a thread (without its root), oldest first."""
        events = await self._pages(f"{V1}/rooms/{q(room_id)}/relations/{q(root)}/m.thread",
                                   "next_batch", limit)
        # Edits of thread messages relate to those messages, not to the root: fetch them too.
        edits: list[dict[str, Any]] = []
        for event in events:
            bundled = ((event.get("unsigned") or {}).get("m.relations") or {}).get("m.replace")
            if bundled:
                edits.extend(await self._edits(room_id, str(event["event_id"])))
        ordered = sorted([*events, *edits], key=lambda e: int(e.get("origin_server_ts", 0)))
        return [self.decrypt(e, room_id) for e in ordered]

    async def _edits(self, room_id: str, event_id: str) -> list[dict[str, Any]]:
        page = await self.request(
            "GET", f"{V1}/rooms/{q(room_id)}/relations/{q(event_id)}/m.replace",
            query={"limit": 20})
        chunk: list[dict[str, Any]] = page.get("chunk", [])
        return chunk

    async def get_event(self, room_id: str, event_id: str) -> dict[str, Any] | None:
        try:
            raw = await self.request("GET", f"{V3}/rooms/{q(room_id)}/event/{q(event_id)}")
        except MatrixError as exc:
            if exc.status in (403, 404):
                return None
            raise
        return self.decrypt(raw, room_id) if isinstance(raw, dict) else None

    async def members(self, room_id: str) -> list[tuple[str, str]]:
        found = await self.request("GET", f"{V3}/rooms/{q(room_id)}/joined_members")
        joined = found.get("joined", {})
        return [(uid, (info or {}).get("display_name") or uid) for uid, info in joined.items()]

    async def membership(self, room_id: str, user_id: str) -> tuple[str | None, int]:
        """The user's current membership and when that membership event was sent."""
        try:
            event = await self.request(
                "GET", f"{V3}/rooms/{q(room_id)}/state/m.room.member/{q(user_id)}",
                query={"format": "event"})
        except MatrixError as exc:
            if exc.status == 404:
                return (None, 0)
            raise
        if "content" not in event:  # a server without format=event: the content alone, and
            # no time, so count the membership from now (shows less, never more)
            return (event.get("membership"), int(time.time() * 1000))
        return (event["content"].get("membership"), int(event.get("origin_server_ts", 0)))

    async def history_visibility(self, room_id: str) -> str:
        try:
            found = await self.request(
                "GET", f"{V3}/rooms/{q(room_id)}/state/m.room.history_visibility")
        except MatrixError:
            return "shared"
        return str(found.get("history_visibility", "shared"))

    async def power_level(self, room_id: str, user_id: str) -> tuple[int, int]:
        """(the user's level, the level needed to change room state)."""
        try:
            levels = await self.request("GET", f"{V3}/rooms/{q(room_id)}/state/m.room.power_levels")
        except MatrixError:
            return (0, 50)
        users = levels.get("users", {})
        level = int(users.get(user_id, levels.get("users_default", 0)))
        needed = int(levels.get("state_default", 50))
        if user_id not in users and await self._is_creator(room_id, user_id):
            level = max(level, needed, 100)  # room v12+: creators outrank every level
        return level, needed

    async def _is_creator(self, room_id: str, user_id: str) -> bool:
        try:
            create = await self.request("GET", f"{V3}/rooms/{q(room_id)}/state/m.room.create")
            event = await self.request("GET", f"{V3}/rooms/{q(room_id)}/state/m.room.create",
                                       query={"format": "event"})
        except MatrixError:
            return False
        creators = {str(event.get("sender", "")), *map(str, create.get("additional_creators", []))}
        return user_id in creators


_counter = 0


def _txn() -> str:
    global _counter
    _counter += 1
    return f"hearth-ai-n-{int(time.time() * 1000):x}-{_counter}"
