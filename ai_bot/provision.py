"""The bot account, made ready on every start (idempotent).

1. Credentials (user ID, password, access token, device ID) live in
   ``<data_dir>/credentials.json`` (0600). A valid token is reused; an expired one is replaced
   by a password login *on the same device ID*, so the E2EE device and its crypto store stay.
2. The first start registers the account through Synapse's shared-secret admin API with the
   ``bot`` user type. If the account exists but the file was lost, the admin API resets its
   password and the bot logs in again (new device).
3. Display name and avatar are set when they differ or are missing.
4. The account is exempted from Synapse's message rate limit
   (``/_synapse/admin/v1/users/<id>/override_ratelimit`` with 0/0), which needs an admin token
   (``admin_credentials_file``, written by ``hearth run``).
"""

from __future__ import annotations

import json
import logging
import secrets
import struct
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from hearth.ai_bot.config import BotConfig
from hearth.private_files import write_private
from hearth.synapse_admin import Account, AdminError, AsyncAdmin, matrix_body

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


def load_credentials(path: Path) -> Credentials | None:
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Credentials(raw["user_id"], raw["password"], raw["access_token"], raw["device_id"])


def save_credentials(path: Path, credentials: Credentials) -> None:
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


class Provisioner:
    """Creates and maintains the bot account."""

    def __init__(self, config: BotConfig, http: httpx.AsyncClient | None) -> None:
        self.config = config
        self._http = http
        self._admin_api = AsyncAdmin(http, self.admin_token) if http is not None else None

    @property
    def admin_api(self) -> AsyncAdmin:
        assert self._admin_api is not None, "this Provisioner was made without an HTTP client"
        return self._admin_api

    @property
    def http(self) -> httpx.AsyncClient:
        assert self._http is not None, "this Provisioner was made without an HTTP client"
        return self._http

    def _secret(self) -> str:
        path = Path(self.config.registration_shared_secret_file)
        if not self.config.registration_shared_secret_file or not path.is_file():
            raise ProvisionError(
                "The bot account does not exist yet and registration_shared_secret_file is "
                f"not readable ({path}); point it at <data>/secrets/registration_shared_secret"
            )
        return path.read_text(encoding="utf-8").strip()

    def admin_token(self) -> str | None:
        path = Path(self.config.admin_credentials_file)
        if not self.config.admin_credentials_file or not path.is_file():
            return None
        token = json.loads(path.read_text(encoding="utf-8")).get("access_token")
        return str(token) if token else None

    async def _whoami(self, token: str) -> dict[str, Any] | None:
        try:
            return await self.admin_api.whoami(token)
        except AdminError as exc:
            raise ProvisionError(str(exc)) from exc

    async def _login(self, user_id: str, password: str, device_id: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": password,
            "initial_device_display_name": DEVICE_NAME,
        }
        if device_id:
            body["device_id"] = device_id
        return _check(await self.http.post(f"{CLIENT}/login", json=body), "Logging the bot in")

    async def _register(self, password: str) -> Account:
        try:
            return await self.admin_api.register(self._secret(), self.config.localpart,
                                                 password, self.config.displayname, "bot")
        except AdminError as exc:
            if exc.errcode == "M_USER_IN_USE":
                raise _UserExists() from exc
            raise ProvisionError(str(exc)) from exc

    async def _admin(self, method: str, path: str, body: dict[str, Any] | None = None
                     ) -> dict[str, Any]:
        if self.admin_token() is None:
            raise ProvisionError(
                f"An admin token is needed for {path}; set admin_credentials_file"
            )
        try:
            return await self.admin_api.call(method, path, body)
        except AdminError as exc:
            raise ProvisionError(str(exc)) from exc

    async def credentials(self) -> Credentials:
        """Valid credentials for the bot, creating the account on first use."""
        path = self.config.credentials_file
        stored = load_credentials(path)
        if stored is not None:
            if await self._whoami(stored.access_token) is not None:
                return stored
            logger.info("bot access token expired; logging in again on device %s",
                        stored.device_id)
            login = await self._login(stored.user_id, stored.password, stored.device_id)
            renewed = Credentials(stored.user_id, stored.password, login["access_token"],
                                  login["device_id"])
            save_credentials(path, renewed)
            return renewed
        password = secrets.token_urlsafe(24)
        try:
            registered = await self._register(password)
            fresh = Credentials(registered.user_id, password, registered.access_token,
                                registered.device_id)
        except _UserExists:
            logger.warning("bot account exists but its credentials are lost; resetting them")
            server = await self._server_name()
            user_id = f"@{self.config.localpart}:{server}"
            await self._admin("PUT", f"/v2/users/{quote(user_id, safe='')}",
                              {"password": password, "logout_devices": True})
            login = await self._login(user_id, password, None)
            fresh = Credentials(user_id, password, login["access_token"], login["device_id"])
        save_credentials(path, fresh)
        return fresh

    async def _server_name(self) -> str:
        token = self.admin_token()
        if token is None:
            raise ProvisionError("Cannot recover the bot account without an admin token")
        found = await self._whoami(token)
        if not found:
            raise ProvisionError("The admin token in admin_credentials_file is not valid")
        return str(found["user_id"]).split(":", 1)[1]

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

    async def exempt_from_rate_limit(self, user_id: str) -> bool:
        """Synapse's message limiter would stall streaming within seconds (0.2/s, burst 10)."""
        if self.admin_token() is None:
            logger.warning("no admin token: the bot is NOT exempted from the message rate "
                           "limit; streaming will be slowed by 429s")
            return False
        try:
            await self.admin_api.exempt_from_rate_limits(user_id)
        except AdminError as exc:
            raise ProvisionError(str(exc)) from exc
        return True

    async def ensure_bot_type(self, user_id: str) -> None:
        """Accounts made before the bot type existed are switched to it."""
        if self.admin_token() is None:
            return
        found = await self._admin("GET", f"/v2/users/{quote(user_id, safe='')}")
        if found.get("user_type") != "bot":
            await self._admin("PUT", f"/v2/users/{quote(user_id, safe='')}",
                              {"user_type": "bot"})


class _UserExists(Exception):
    pass


async def provision(config: BotConfig) -> Credentials:
    """Make the account ready; returns its credentials."""
    async with httpx.AsyncClient(base_url=config.homeserver_url, timeout=30.0) as http:
        provisioner = Provisioner(config, http)
        credentials = await provisioner.credentials()
        await provisioner.profile(credentials)
        await provisioner.ensure_bot_type(credentials.user_id)
        await provisioner.exempt_from_rate_limit(credentials.user_id)
    return credentials
