"""Admin tasks against a running homeserver over HTTP: create users, grant admin, status."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from hearth.secret_files import write_private

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


def _raise_for_matrix(response: httpx.Response, doing: str) -> dict[str, Any]:
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {}
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
    url = base_url.rstrip("/") + "/_synapse/admin/v1/register"
    with httpx.Client(timeout=timeout) as client:
        nonce = _raise_for_matrix(client.get(url), "Fetching a registration nonce")["nonce"]
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
        result = _raise_for_matrix(client.post(url, json=body), f"Registering {username}")
    return Account(
        user_id=result["user_id"],
        password=password,
        access_token=result["access_token"],
        device_id=result.get("device_id", ""),
    )


def set_admin(base_url: str, admin_token: str, user_id: str, admin: bool = True) -> None:
    """Grant or remove server admin through Synapse's admin API."""
    url = f"{base_url.rstrip('/')}/_synapse/admin/v1/users/{quote(user_id, safe='')}/admin"
    with httpx.Client(timeout=30.0) as client:
        response = client.put(
            url, json={"admin": admin}, headers={"Authorization": f"Bearer {admin_token}"}
        )
    _raise_for_matrix(response, f"Setting admin={admin} for {user_id}")


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
