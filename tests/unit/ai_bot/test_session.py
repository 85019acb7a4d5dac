"""The bot's session renewal: refresh token first, else its own password on the same device;
once for all callers; saved privately."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from hearth.ai_bot.matrix.session import Session
from hearth.ai_bot.provision import Credentials, load_credentials

STORED = Credentials("@ai:hs", "own-password", "old-token", "DEVICE", "refresh-1")


class Homeserver:
    """Answers /refresh and /login as Synapse does; remembers what it was asked."""

    def __init__(self, refresh_status: int = 200) -> None:
        self.refresh_status = refresh_status
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        self.calls.append((request.url.path, body))
        if request.url.path.endswith("/refresh"):
            if self.refresh_status != 200:
                return httpx.Response(self.refresh_status,
                                      json={"errcode": "M_FORBIDDEN", "error": "expired"})
            return httpx.Response(200, json={"access_token": "refreshed",
                                             "refresh_token": "refresh-2",
                                             "expires_in_ms": 900_000})
        return httpx.Response(200, json={"access_token": "logged-in", "device_id": "DEVICE",
                                         "refresh_token": "refresh-3", "user_id": "@ai:hs"})


def session_on(server: Homeserver, tmp_path: Path) -> Session:
    return Session("http://hs", tmp_path / "credentials.json", STORED,
                   transport=httpx.MockTransport(server))


async def test_renewal_uses_the_refresh_token_and_saves_privately(tmp_path: Path) -> None:
    """An expired token is replaced through /refresh; the file is 0600 and listeners hear."""
    server = Homeserver()
    session = session_on(server, tmp_path)
    heard: list[str] = []
    session.on_renewed(lambda fresh: heard.append(fresh.access_token))
    await session.renew("old-token")
    assert session.token == "refreshed" and heard == ["refreshed"]
    assert [path for path, _ in server.calls] == ["/_matrix/client/v3/refresh"]
    saved = load_credentials(tmp_path / "credentials.json")
    assert saved is not None and (saved.access_token, saved.refresh_token) == (
        "refreshed", "refresh-2")
    assert stat.S_IMODE((tmp_path / "credentials.json").stat().st_mode) == 0o600


@pytest.mark.parametrize("status", [401, 403])
async def test_ended_session_logs_in_again_on_the_same_device(tmp_path: Path,
                                                              status: int) -> None:
    """A refused or expired refresh token: password login, same device, refreshable."""
    server = Homeserver(refresh_status=status)
    session = session_on(server, tmp_path)
    await session.renew("old-token")
    assert session.token == "logged-in"
    path, body = server.calls[-1]
    assert path == "/_matrix/client/v3/login"
    assert (body["device_id"], body["password"], body["refresh_token"]) == (
        "DEVICE", "own-password", True)


async def test_concurrent_callers_renew_once(tmp_path: Path) -> None:
    """Every call refused with the same old token waits for one renewal and reuses it."""
    server = Homeserver()
    session = session_on(server, tmp_path)
    await asyncio.gather(*(session.renew("old-token") for _ in range(5)))
    assert len(server.calls) == 1 and session.renewals == 1
    await session.renew("old-token")  # a late caller with the replaced token: nothing to do
    assert len(server.calls) == 1
