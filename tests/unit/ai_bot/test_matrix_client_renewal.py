"""The bot's Matrix client renews its expired access token and retries, for raw calls, sends,
joins and syncs alike (against a small homeserver that expires the first token)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from hearth.ai_bot.matrix.client import MatrixClient, build_nio_client
from hearth.ai_bot.matrix.session import Session
from hearth.ai_bot.provision import Credentials
from tests.unit.ai_bot.fake_matrix import BOT, ROOM

V3 = "/_matrix/client/v3"


class ExpiringHomeserver:
    """Accepts only the refreshed token; the first one is answered like an expired one."""

    def __init__(self) -> None:
        self.tokens: list[tuple[str, str]] = []  # (path, token used)
        self.refreshes = 0

    async def handle(self, request: web.Request) -> web.Response:
        if request.path == f"{V3}/refresh":
            self.refreshes += 1
            return web.json_response({"access_token": "new", "refresh_token": "r2"})
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or \
            request.query.get("access_token", "")
        self.tokens.append((request.path, token))
        if token != "new":
            return web.json_response({"errcode": "M_UNKNOWN_TOKEN", "soft_logout": True,
                                      "error": "Access token has expired"}, status=401)
        if "/send/" in request.path:
            return web.json_response({"event_id": "$sent"})
        if "/join" in request.path:
            return web.json_response({"room_id": ROOM})
        if request.path.endswith("/sync"):
            return web.json_response({"next_batch": "s1", "rooms": {}})
        return web.json_response({"ok": True})


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[ExpiringHomeserver, MatrixClient]]:
    fake = ExpiringHomeserver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    credentials = Credentials(BOT, "pw", "old", "DEV", "r1")
    nio = build_nio_client(url, credentials, tmp_path / "store", encryption=False)
    session = Session(url, tmp_path / "credentials.json", credentials)
    yield fake, MatrixClient(nio, session)
    await nio.close()  # type: ignore[no-untyped-call]
    await server.close()


async def test_every_kind_of_call_survives_an_expired_token(
        served: tuple[ExpiringHomeserver, MatrixClient]) -> None:
    """The first call meets 401, the session is refreshed once, every call then succeeds."""
    fake, client = served
    assert await client.request("GET", f"{V3}/account/whoami") == {"ok": True}
    assert fake.refreshes == 1
    assert await client.send_message(ROOM, {"msgtype": "m.text", "body": "hi"}, "t1") == "$sent"
    assert await client.join_room(ROOM)
    await client.sync_once(first=True)
    assert fake.refreshes == 1
    assert [token for _, token in fake.tokens] == ["old", "new", "new", "new", "new"]


@pytest.mark.parametrize("first_call", ["send", "join", "sync"])
async def test_nio_calls_renew_on_their_own(
        served: tuple[ExpiringHomeserver, MatrixClient], first_call: str) -> None:
    """Sends, joins and syncs that are the first to meet the expiry renew and retry too."""
    fake, client = served
    if first_call == "send":
        assert await client.send_message(ROOM, {"msgtype": "m.text", "body": "hi"},
                                         "t1") == "$sent"
    elif first_call == "join":
        assert await client.join_room(ROOM)
    else:
        await client.sync_once(first=True)
    assert fake.refreshes == 1 and fake.tokens[-1][1] == "new"
