"""Matrix clients for the tests: mautrix, an SDK independent of the bot's matrix-nio."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp
from mautrix.api import HTTPAPI, Method, PathBuilder
from mautrix.client import ClientAPI
from mautrix.errors import MatrixRequestError
from mautrix.types import RoomCreatePreset, UserID

from hearth.synapse_admin import register_user
from tests.harness.server import Homeserver

DEFAULT_PASSWORD = "correct-horse-battery-staple-42"


@dataclass
class User:
    """A registered account with a logged-in mautrix client."""

    user_id: str
    localpart: str
    password: str
    client: ClientAPI

    async def raw(
        self, method: Method, path: str, content: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
    ) -> Any:
        """A call mautrix has no helper for, by absolute path (``/_matrix/client/v3/...``)."""
        return await self.client.api.request(
            method, PathBuilder(path), content=content, query_params=query or {}
        )


class ClientFactory:
    """Creates users on one homeserver and closes their HTTP sessions at the end."""

    def __init__(self, server: Homeserver) -> None:
        self.server = server
        self._sessions: list[aiohttp.ClientSession] = []

    def client(self, user_id: str = "", token: str = "", device_id: str = "") -> ClientAPI:
        """A mautrix client for ``token`` (or anonymous when empty), with no silent retries."""
        session = aiohttp.ClientSession()
        self._sessions.append(session)
        api = HTTPAPI(self.server.base_url, token, client_session=session, default_retry_count=0)
        return ClientAPI(user_id, device_id, api=api)

    async def user(self, prefix: str = "user", *, admin: bool = False,
                   password: str = DEFAULT_PASSWORD, displayname: str | None = None) -> User:
        """Register a fresh account through the admin registration API and log it in."""
        localpart = f"{prefix}{secrets.token_hex(3)}"
        account = register_user(self.server.base_url, self.server.shared_secret, localpart,
                                password=password, admin=admin, displayname=displayname)
        client = self.client(account.user_id, account.access_token, account.device_id)
        return User(account.user_id, localpart, password, client)

    async def close(self) -> None:
        for session in self._sessions:
            await session.close()


async def private_room_of_two(clients: ClientFactory) -> tuple[str, User, User]:
    """Fresh Alice and Bob in a private room Alice made and Bob joined: (room, Alice, Bob)."""
    alice = await clients.user("alice")
    bob = await clients.user("bob")
    room_id = await alice.client.create_room(
        preset=RoomCreatePreset.PRIVATE, invitees=[UserID(bob.user_id)]
    )
    await bob.client.join_room(room_id, max_retries=0)
    return room_id, alice, bob


__all__ = ["ClientFactory", "MatrixRequestError", "Method", "User", "private_room_of_two"]
