"""A minimal asyncio Matrix client: just the calls the scenarios time, over aiohttp."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

from hearth.synapse_admin import register_user

CLIENT_API = "/_matrix/client/v3"
PASSWORD = "Bench-password-2468"
REQUEST_TIMEOUT_S = 60.0
SETUP_RETRIES = 10


class MatrixError(RuntimeError):
    """A non-2xx answer, with its errcode and any retry hint."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.errcode = str(body.get("errcode", ""))
        self.retry_after_ms = int(body.get("retry_after_ms", 0) or 0)
        super().__init__(f"HTTP {status} {self.errcode}: {body.get('error', '')}")


@dataclass
class Endpoint:
    """One server as the load generator sees it: URL, shared secret, a pooled HTTP session."""

    name: str
    base_url: str
    shared_secret: str
    session: aiohttp.ClientSession

    async def register(self, prefix: str) -> Client:
        """A new account (shared-secret admin API, in a thread) with its access token."""
        localpart = f"{prefix}{secrets.token_hex(4)}"
        account = await asyncio.to_thread(
            register_user, self.base_url, self.shared_secret, localpart, password=PASSWORD
        )
        return Client(self, account.user_id, account.access_token)

    async def register_many(self, prefix: str, count: int, parallel: int = 4) -> list[Client]:
        """``count`` accounts, ``parallel`` registrations at a time."""
        gate = asyncio.Semaphore(parallel)

        async def one() -> Client:
            async with gate:
                return await self.register(prefix)

        return list(await asyncio.gather(*(one() for _ in range(count))))


def open_session() -> aiohttp.ClientSession:
    """An HTTP session with no connection cap (the scenarios choose the concurrency)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
    )


@dataclass
class Client:
    """One logged-in user."""

    endpoint: Endpoint
    user_id: str
    token: str
    _txn: itertools.count[int] = field(default_factory=itertools.count)
    _txn_prefix: str = field(default_factory=lambda: secrets.token_hex(4))

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                      params: dict[str, str] | None = None) -> dict[str, Any]:
        """Call the client API; raise MatrixError on an error status."""
        async with self.endpoint.session.request(
            method, self.endpoint.base_url + CLIENT_API + path, json=body, params=params,
            headers={"Authorization": f"Bearer {self.token}"},
        ) as response:
            payload: dict[str, Any] = await response.json(content_type=None)
            if response.status >= 400:
                raise MatrixError(response.status, payload)
            return payload

    async def setup_request(self, method: str, path: str,
                            body: dict[str, Any] | None = None) -> dict[str, Any]:
        """``request`` for setup steps: waits out 429s (joins have their own limiter)."""
        for _ in range(SETUP_RETRIES):
            try:
                return await self.request(method, path, body)
            except MatrixError as exc:
                if exc.status != 429:
                    raise
                await asyncio.sleep(max(exc.retry_after_ms, 100) / 1000)
        return await self.request(method, path, body)

    async def create_room(self) -> str:
        """A public room this user owns."""
        created = await self.setup_request("POST", "/createRoom", {"preset": "public_chat"})
        return str(created["room_id"])

    async def join(self, room_id: str) -> None:
        await self.setup_request("POST", f"/join/{quote(room_id, safe='')}", {})

    async def send_text(self, room_id: str, body: str) -> str:
        """Send an ``m.text`` message; the event ID."""
        txn = f"{self._txn_prefix}.{next(self._txn)}"
        path = f"/rooms/{quote(room_id, safe='')}/send/m.room.message/{txn}"
        sent = await self.request("PUT", path, {"msgtype": "m.text", "body": body})
        return str(sent["event_id"])

    async def sync(self, since: str | None, timeout_ms: int, filter_json: str) -> dict[str, Any]:
        """One ``/sync`` call (long-poll up to ``timeout_ms``)."""
        params = {"timeout": str(timeout_ms), "filter": filter_json}
        if since is not None:
            params["since"] = since
        return await self.request("GET", "/sync", params=params)


@dataclass(frozen=True)
class Seat:
    """A sender and the room it sends into."""

    client: Client
    room_id: str
