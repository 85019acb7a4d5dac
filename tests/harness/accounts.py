"""Account calls whose whole reply matters: user-interactive auth (UIA), login, refusals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.harness.server import Homeserver

CLIENT_V3 = "/_matrix/client/v3"

# Passwords our policy refuses, with the errcode of the rule each breaks: Synapse names the
# rule that failed instead of the generic M_WEAK_PASSWORD (MSC2000 codes). For parametrize.
WEAK_PASSWORDS = [
    pytest.param("short1a", "M_PASSWORD_TOO_SHORT", id="shorter-than-10"),
    pytest.param("no-digits-in-here", "M_PASSWORD_NO_DIGIT", id="no-digit"),
    pytest.param("NO-LOWERCASE-123", "M_PASSWORD_NO_LOWERCASE", id="no-lowercase"),
]


@dataclass(frozen=True)
class Reply:
    """An HTTP status and its JSON body ({} when the body is not a JSON object)."""

    status: int
    body: dict[str, Any]

    @property
    def errcode(self) -> str | None:
        code: str | None = self.body.get("errcode")
        return code


async def call(
    server: Homeserver, method: str, path: str, body: dict[str, Any] | None = None, *,
    token: str = "", query: dict[str, Any] | None = None,
) -> Reply:
    """One request by absolute path, as the given access token (anonymous when empty)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as http:
        response = await http.request(method, path, json=body, params=query, headers=headers)
    try:
        data = response.json()
    except ValueError:
        data = {}
    return Reply(response.status_code, data if isinstance(data, dict) else {"value": data})


def password_identity(user: str, password: str) -> dict[str, Any]:
    """The m.login.password fields identifying ``user`` (a user ID or a localpart)."""
    return {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user},
        "password": password,
    }


async def login(
    server: Homeserver, user: str, password: str, device_name: str | None = None
) -> Reply:
    """POST /login with a password; the reply holds access_token and device_id on success."""
    body = password_identity(user, password)
    if device_name is not None:
        body["initial_device_display_name"] = device_name
    return await call(server, "POST", f"{CLIENT_V3}/login", body)


async def start_uia(
    server: Homeserver, method: str, path: str, body: dict[str, Any], *, token: str = ""
) -> Reply:
    """The first, unauthenticated attempt: must be refused 401 with a UIA session and flows."""
    first = await call(server, method, path, body, token=token)
    assert first.status == 401, first
    assert first.body.get("session"), first
    assert first.body.get("flows"), first
    return first


def offers_stage(challenge: Reply, stage: str) -> bool:
    """Whether a UIA challenge offers a single-stage flow of ``stage``."""
    return [stage] in [flow.get("stages") for flow in challenge.body["flows"]]


async def with_password(
    server: Homeserver, method: str, path: str, body: dict[str, Any], *, token: str,
    user_id: str, password: str,
) -> Reply:
    """Call an endpoint guarded by UIA, answering its m.login.password stage with ``password``."""
    challenge = await start_uia(server, method, path, body, token=token)
    assert offers_stage(challenge, "m.login.password"), challenge
    auth = {**password_identity(user_id, password), "session": challenge.body["session"]}
    return await call(server, method, path, {**body, "auth": auth}, token=token)


async def whoami(server: Homeserver, token: str) -> Reply:
    """GET /account/whoami: 200 with user_id/device_id while the token is valid."""
    return await call(server, "GET", f"{CLIENT_V3}/account/whoami", token=token)

