"""``hearth run`` makes the bot account with the admin's powers and hands the bot only its own
credential (against a scripted homeserver)."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from hearth.ai_bot.provision import load_credentials
from hearth.bot_account import BotAccount, BotAccountError, ensure_bot_account


class Synapse:
    """The admin and client endpoints provisioning uses; ``taken``: the name exists."""

    def __init__(self, *, taken: bool = False, admin_valid: bool = True) -> None:
        self.taken = taken
        self.admin_valid = admin_valid
        self.calls: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.calls.append((request.method, path, body))
        auth = request.headers.get("Authorization", "")
        if path == "/_synapse/admin/v1/register":
            if request.method == "GET":
                return httpx.Response(200, json={"nonce": "n"})
            if self.taken:
                return httpx.Response(400, json={"errcode": "M_USER_IN_USE", "error": "taken"})
            return httpx.Response(200, json={"user_id": "@ai:hs", "access_token": "reg",
                                             "device_id": "D1"})
        if path.endswith("/account/whoami"):
            if auth != "Bearer admin" or not self.admin_valid:
                return httpx.Response(401, json={"errcode": "M_UNKNOWN_TOKEN", "error": "x"})
            return httpx.Response(200, json={"user_id": "@admin:hs"})
        if path.endswith("/login"):
            return httpx.Response(200, json={"access_token": "login", "device_id": "D2",
                                             "refresh_token": "r"})
        if path.startswith("/_synapse/admin/"):
            assert auth == "Bearer admin"
            if path.endswith("/override_ratelimit") and request.method == "GET":
                return httpx.Response(200, json={})
            return httpx.Response(200, json={"user_type": None})
        return httpx.Response(404, json={"errcode": "M_UNRECOGNIZED", "error": "?"})


def provision(synapse: Synapse, tmp_path: Path, admin_token: str | None) -> Any:
    account = BotAccount("ai", "Hearth AI", tmp_path / "bot" / "credentials.json")

    async def run() -> Any:
        async with httpx.AsyncClient(base_url="http://hs",
                                     transport=httpx.MockTransport(synapse)) as http:
            return await ensure_bot_account(http, account, "shared-secret", admin_token)

    return asyncio.run(run())


def test_first_run_registers_a_bot_and_exempts_it(tmp_path: Path) -> None:
    """Registered with user type bot; exempted; only the bot's own credential is written."""
    synapse = Synapse()
    ready = provision(synapse, tmp_path, "admin")
    assert (ready.user_id, ready.created, ready.exempt_from_rate_limit) == ("@ai:hs", True, True)
    registered = next(b for m, p, b in synapse.calls if p.endswith("/register") and m == "POST")
    assert registered["user_type"] == "bot" and registered["admin"] is False
    assert ("POST", "/_synapse/admin/v1/users/@ai:hs/override_ratelimit",
            {"messages_per_second": 0, "burst_count": 0}) in synapse.calls
    path = tmp_path / "bot" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "shared-secret" not in text and "admin" not in text
    saved = load_credentials(path)
    assert saved is not None and saved.user_id == "@ai:hs"


def test_expired_admin_token_changes_nothing_and_needs_nothing(tmp_path: Path) -> None:
    """With the bot's credential already there, a dead admin token is not a failure."""
    provision(Synapse(), tmp_path, "admin")
    later = Synapse(admin_valid=False)
    ready = provision(later, tmp_path, "admin")
    assert (ready.created, ready.exempt_from_rate_limit) == (False, None)
    assert [p for _, p, _ in later.calls if p.startswith("/_synapse/admin/")] == []


def test_lost_credential_is_recovered_with_the_admin_token_only(tmp_path: Path) -> None:
    """The name is taken and the file gone: a working admin token resets the password; none
    at all is a clear error."""
    with pytest.raises(BotAccountError, match=r"credentials .* are lost"):
        provision(Synapse(taken=True), tmp_path, None)
    synapse = Synapse(taken=True)
    ready = provision(synapse, tmp_path, "admin")
    assert ready.created and ready.user_id == "@ai:hs"
    reset = next(b for m, p, b in synapse.calls if m == "PUT" and p.endswith("/v2/users/@ai:hs"))
    assert reset["logout_devices"] is True and reset["password"]
    saved = load_credentials(tmp_path / "bot" / "credentials.json")
    assert saved is not None and (saved.access_token, saved.device_id) == ("login", "D2")
