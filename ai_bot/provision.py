"""The bot's own session, made ready on every start with the bot's own credential only.

``hearth run`` creates the account with the admin's powers (``hearth/bot_account.py``: the
``bot`` user type, the exemption from Synapse's message rate limit) and hands the bot nothing
but ``<data_dir>/credentials.json`` (0600): its user ID, password, device ID and tokens. The
bot never reads an admin credential or the registration shared secret, so a bot that is
compromised or misbehaves holds no more power than a bot account.

1. A stored access token that still works, from a refreshable session, is reused.
2. Otherwise the session is renewed: the refresh token when there is one, else a password
   login *on the same device ID* (the E2EE device and its crypto store stay) that asks for a
   refreshable session. ``matrix/session.py`` does the same whenever a token expires later.
3. Display name and avatar are set when they differ or are missing (the bot's own token).
"""

from __future__ import annotations

import json
import logging
import struct
import zlib
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from hearth.ai_bot.config import BotConfig
from hearth.private_files import write_private
from hearth.synapse_admin import AdminError, matrix_body

logger = logging.getLogger(__name__)

CLIENT = "/_matrix/client/v3"
DEVICE_NAME = "Hearth AI bot"


class ProvisionError(RuntimeError):
    """The account could not be made ready; the message says why."""


@dataclass(frozen=True)
class Credentials:
    user_id: str
    password: str
    access_token: str
    device_id: str
    refresh_token: str | None = None


def load_credentials(path: Path) -> Credentials | None:
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Credentials(raw["user_id"], raw["password"], raw.get("access_token", ""),
                       raw.get("device_id", ""), raw.get("refresh_token"))


def save_credentials(path: Path, credentials: Credentials) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(path, json.dumps(asdict(credentials), indent=2) + "\n")


def avatar_png(size: int = 64) -> bytes:
    """A small, generated PNG: a warm circle on a dark square (no asset to ship)."""
    rows = []
    centre = (size - 1) / 2
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            inside = (x - centre) ** 2 + (y - centre) ** 2 <= (size * 0.38) ** 2
            row += bytes((240, 140, 60) if inside else (40, 44, 52))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def _check(response: httpx.Response, doing: str) -> dict[str, Any]:
    try:
        return matrix_body(response, doing)
    except AdminError as exc:
        raise ProvisionError(str(exc)) from exc


async def password_login(http: httpx.AsyncClient, user_id: str, password: str,
                         device_id: str | None) -> Credentials:
    """A refreshable session by password, on ``device_id`` when given."""
    body: dict[str, Any] = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user_id},
        "password": password,
        "initial_device_display_name": DEVICE_NAME,
        "refresh_token": True,
    }
    if device_id:
        body["device_id"] = device_id
    found = _check(await http.post(f"{CLIENT}/login", json=body), "Logging the bot in")
    return Credentials(user_id, password, str(found["access_token"]), str(found["device_id"]),
                       found.get("refresh_token"))


async def renewed(http: httpx.AsyncClient, credentials: Credentials) -> Credentials:
    """Fresh tokens for the same device: the refresh token, else the password."""
    if credentials.refresh_token:
        response = await http.post(f"{CLIENT}/refresh",
                                   json={"refresh_token": credentials.refresh_token})
        if response.status_code == 200:
            found = response.json()
            return replace(credentials, access_token=str(found["access_token"]),
                           refresh_token=found.get("refresh_token",
                                                   credentials.refresh_token))
        if response.status_code not in (401, 403):  # refused, used or expired: log in
            _check(response, "Refreshing the bot's session")
        logger.info("bot session ended; logging in again on device %s", credentials.device_id)
    return await password_login(http, credentials.user_id, credentials.password,
                                credentials.device_id)


async def token_works(http: httpx.AsyncClient, token: str) -> bool:
    """Whether the homeserver still accepts ``token`` (401: no; other errors raise)."""
    if not token:
        return False
    response = await http.get(f"{CLIENT}/account/whoami",
                              headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        return False
    _check(response, "Checking the bot's access token")
    return True


class Provisioner:
    """Makes the bot's session ready and keeps its profile."""

    def __init__(self, config: BotConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http

    async def credentials(self) -> Credentials:
        """Working credentials: the stored ones, renewed when they no longer work."""
        path = self.config.credentials_file
        stored = load_credentials(path)
        if stored is None:
            raise ProvisionError(
                f"The bot has no credentials at {path}: `hearth run` creates the bot account "
                "and writes them before it starts the bot")
        if stored.refresh_token and await token_works(self.http, stored.access_token):
            return stored
        fresh = await renewed(self.http, stored)
        save_credentials(path, fresh)
        return fresh

    async def profile(self, credentials: Credentials) -> None:
        """Display name and avatar, when they differ or are missing."""
        auth = {"Authorization": f"Bearer {credentials.access_token}"}
        user = quote(credentials.user_id, safe="")
        response = await self.http.get(f"{CLIENT}/profile/{user}", headers=auth)
        current = response.json() if response.status_code == 200 else {}
        if current.get("displayname") != self.config.displayname:
            _check(await self.http.put(f"{CLIENT}/profile/{user}/displayname", headers=auth,
                                       json={"displayname": self.config.displayname}),
                   "Setting the bot's display name")
        if self.config.set_avatar and not current.get("avatar_url"):
            uploaded = _check(await self.http.post(
                "/_matrix/media/v3/upload", params={"filename": "ai-bot.png"},
                headers={**auth, "Content-Type": "image/png"}, content=avatar_png()),
                "Uploading the bot's avatar")
            _check(await self.http.put(f"{CLIENT}/profile/{user}/avatar_url", headers=auth,
                                       json={"avatar_url": uploaded["content_uri"]}),
                   "Setting the bot's avatar")


async def provision(config: BotConfig) -> Credentials:
    """Make the session ready; returns its credentials."""
    async with httpx.AsyncClient(base_url=config.homeserver_url, timeout=30.0) as http:
        provisioner = Provisioner(config, http)
        credentials = await provisioner.credentials()
        await provisioner.profile(credentials)
    return credentials
