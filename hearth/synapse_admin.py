"""The one client of Synapse's admin API, used by the command line, the AI bot and the tests.

Neutral ground: it depends on nothing else of the project (only on httpx and the private-file
writer), so the CLI and the bot can both use it without reaching into each other. The command
line is synchronous and the bot asynchronous, so the request bodies and the reading of
answers are shared functions, and there is a small call for each side.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from hearth.private_files import write_private

ADMIN_CREDENTIALS_FILE = "admin-credentials.json"


class AdminError(RuntimeError):
    """A refusal from the homeserver, with its Matrix errcode when it sent one."""

    def __init__(self, message: str, errcode: str | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode


@dataclass(frozen=True)
class Account:
    """A registered account and an access token for it."""

    user_id: str
    password: str
    access_token: str
    device_id: str


REGISTER_PATH = "/_synapse/admin/v1/register"


def matrix_body(response: httpx.Response, doing: str) -> dict[str, Any]:
    """The JSON object of a successful answer; a refusal raises AdminError with its errcode."""
    try:
        loaded = response.json()
    except ValueError:
        loaded = {}
    body: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
    if response.status_code >= 400:
        errcode = body.get("errcode")
        error = body.get("error", response.text[:200])
        raise AdminError(f"{doing} failed: HTTP {response.status_code} {errcode}: {error}", errcode)
    return body


def registration_mac(
    shared_secret: str,
    nonce: str,
    username: str,
    password: str,
    admin: bool,
    user_type: str | None = None,
) -> str:
    """The HMAC-SHA1 that Synapse's shared-secret registration API expects."""
    parts = [nonce, username, password, "admin" if admin else "notadmin"]
    if user_type is not None:
        parts.append(user_type)
    mac = hmac.new(shared_secret.encode("utf-8"), digestmod=hashlib.sha1)
    mac.update("\x00".join(parts).encode("utf-8"))
    return mac.hexdigest()


def registration_body(
    shared_secret: str,
    nonce: str,
    username: str,
    password: str,
    admin: bool,
    displayname: str | None = None,
    user_type: str | None = None,
) -> dict[str, Any]:
    """The body of a shared-secret registration for ``nonce``."""
    body: dict[str, Any] = {
        "nonce": nonce,
        "username": username,
        "password": password,
        "admin": admin,
        "mac": registration_mac(shared_secret, nonce, username, password, admin, user_type),
    }
    if user_type is not None:
        body["user_type"] = user_type
    if displayname:
        body["displayname"] = displayname
    return body


def _account(result: dict[str, Any], password: str) -> Account:
    return Account(
        user_id=result["user_id"],
        password=password,
        access_token=result["access_token"],
        device_id=result.get("device_id", ""),
    )


def register_user(
    base_url: str,
    shared_secret: str,
    username: str,
    password: str | None = None,
    admin: bool = False,
    displayname: str | None = None,
    user_type: str | None = None,
    timeout: float = 30.0,
) -> Account:
    """Create an account through the admin registration API (shared secret)."""
    password = password or secrets.token_urlsafe(18)
    url = base_url.rstrip("/") + REGISTER_PATH
    with httpx.Client(timeout=timeout) as client:
        nonce = matrix_body(client.get(url), "Fetching a registration nonce")["nonce"]
        body = registration_body(shared_secret, nonce, username, password, admin,
                                 displayname, user_type)
        result = matrix_body(client.post(url, json=body), f"Registering {username}")
    return _account(result, password)


def set_admin(base_url: str, admin_token: str, user_id: str, admin: bool = True) -> None:
    """Grant or remove server admin through Synapse's admin API."""
    url = f"{base_url.rstrip('/')}/_synapse/admin/v1/users/{quote(user_id, safe='')}/admin"
    with httpx.Client(timeout=30.0) as client:
        response = client.put(
            url, json={"admin": admin}, headers={"Authorization": f"Bearer {admin_token}"}
        )
    matrix_body(response, f"Setting admin={admin} for {user_id}")


def save_admin_credentials(data_dir: Path, account: Account, base_url: str) -> Path:
    """Keep the first admin's credentials in the data directory, readable by the owner only."""
    path = data_dir / ADMIN_CREDENTIALS_FILE
    payload = {
        "user_id": account.user_id,
        "password": account.password,
        "access_token": account.access_token,
        "homeserver": base_url,
    }
    write_private(path, json.dumps(payload, indent=2) + "\n")
    return path


def load_admin_credentials(data_dir: Path) -> dict[str, str] | None:
    """The saved admin credentials, or None before the first ``run``."""
    path = data_dir / ADMIN_CREDENTIALS_FILE
    if not path.is_file():
        return None
    loaded: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def server_status(base_url: str, timeout: float = 5.0) -> dict[str, Any]:
    """Ask the server whether it is up, and which versions it speaks."""
    status: dict[str, Any] = {"url": base_url, "up": False}
    try:
        with httpx.Client(timeout=timeout) as client:
            health = client.get(base_url.rstrip("/") + "/health")
            status["up"] = health.status_code == 200 and health.text.strip() == "OK"
            versions = client.get(base_url.rstrip("/") + "/_matrix/client/versions")
            if versions.status_code == 200:
                status["versions"] = versions.json().get("versions", [])
            server = client.get(base_url.rstrip("/") + "/_synapse/admin/v1/server_version")
            if server.status_code == 200:
                status["server_version"] = server.json().get("server_version")
    except httpx.HTTPError as exc:
        status["error"] = f"{type(exc).__name__}: {exc}"
    return status


def _user_path(user_id: str) -> str:
    return quote(user_id, safe="")


class AsyncAdmin:
    """The admin calls a long-running asynchronous process needs (the AI bot's provisioning).

    ``http`` has the homeserver as its base URL; ``admin_token`` is read when a call needs it,
    so a renewed token on disk is picked up, and None means the calls that need it refuse.
    """

    def __init__(self, http: httpx.AsyncClient, admin_token: Callable[[], str | None]) -> None:
        self._http = http
        self._admin_token = admin_token

    async def register(self, shared_secret: str, username: str, password: str,
                       displayname: str | None = None, user_type: str | None = None) -> Account:
        """Shared-secret registration of a non-admin account (M_USER_IN_USE as AdminError)."""
        nonce = matrix_body(await self._http.get(REGISTER_PATH),
                            "Fetching a registration nonce")["nonce"]
        body = registration_body(shared_secret, nonce, username, password, False,
                                 displayname, user_type)
        result = matrix_body(await self._http.post(REGISTER_PATH, json=body),
                             f"Registering {username}")
        return _account(result, password)

    async def whoami(self, access_token: str) -> dict[str, Any] | None:
        """Who ``access_token`` belongs to, or None when the server no longer accepts it."""
        response = await self._http.get("/_matrix/client/v3/account/whoami",
                                        headers={"Authorization": f"Bearer {access_token}"})
        if response.status_code == 401:
            return None
        return matrix_body(response, "Checking an access token")

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
        """``method /_synapse/admin<path>`` with the admin token."""
        token = self._admin_token()
        if token is None:
            raise AdminError(f"An admin token is needed for {path}")
        response = await self._http.request(method, f"/_synapse/admin{path}", json=body,
                                            headers={"Authorization": f"Bearer {token}"})
        return matrix_body(response, f"{method} {path}")

    async def get_user(self, user_id: str) -> dict[str, Any]:
        return await self.call("GET", f"/v2/users/{_user_path(user_id)}")

    async def update_user(self, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return await self.call("PUT", f"/v2/users/{_user_path(user_id)}", changes)

    async def exempt_from_rate_limits(self, user_id: str) -> None:
        """Synapse's per-user override with 0/0: no message limit for this account."""
        path = f"/v1/users/{_user_path(user_id)}/override_ratelimit"
        current = await self.call("GET", path)
        if current.get("messages_per_second") != 0 or current.get("burst_count") != 0:
            await self.call("POST", path, {"messages_per_second": 0, "burst_count": 0})
