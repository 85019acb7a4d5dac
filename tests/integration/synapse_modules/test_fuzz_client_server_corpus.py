"""Malformed requests at /login, /send, /createRoom, /state, the UIA endpoints and our own JSON
APIs: no 5xx, and every refusal a Matrix error (errcode + error), on both databases.

The bodies come from ``fuzz_corpus`` (every bad shape for every endpoint, every field of each
endpoint's plausible body mistyped). Counts and problems: ``<basetemp>/fuzz-tallies/``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest
from mautrix.types import RoomCreatePreset

from hearth.synapse_admin import AsyncAdmin
from tests.harness.accounts import CLIENT_V3
from tests.harness.calls import seg
from tests.harness.clients import ClientFactory
from tests.harness.fuzz import FuzzTally, tally_dir
from tests.harness.logins import MFA_API, TOTP_TYPE
from tests.harness.roles import ROLES
from tests.harness.server import Homeserver
from tests.integration.synapse_modules.fuzz_corpus import cases

# A healthy answer, even to a 2 MB body or a bcrypt check on a loaded machine, comes far sooner.
ANSWER_TIMEOUT_S = 20.0
WRONG_PASSWORD = "not-the-password-42"  # never the account's password


@dataclass(frozen=True)
class Subject:
    """The fresh account (and its room) one endpoint's cases are sent as."""

    user_id: str
    token: str
    room_id: str
    admin_token: str


@dataclass(frozen=True)
class Target:
    """An endpoint: method, path (``{txn}`` filled per request), whether a token is sent, and
    the plausible body whose fields are mistyped (None: the bad shapes only)."""

    method: str
    path: str
    template: dict[str, Any] | None
    requester: Literal["user", "admin", "anonymous"] = "user"


def _password_auth(user_id: str) -> dict[str, Any]:
    return {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user_id},
            "password": WRONG_PASSWORD}


def _login(version: str, with_fields: bool) -> Callable[[Subject], Target]:
    def target(s: Subject) -> Target:
        template = {**_password_auth(s.user_id), "device_id": "FUZZDEVICE",
                    "initial_device_display_name": "fuzz"}
        return Target("POST", f"/_matrix/client/{version}/login",
                      template if with_fields else None, "anonymous")
    return target


def _state(event_type: str, content: Callable[[Subject], dict[str, Any]]
           ) -> Callable[[Subject], Target]:
    def target(s: Subject) -> Target:
        return Target("PUT", f"{CLIENT_V3}/rooms/{seg(s.room_id)}/state/{event_type}/",
                      content(s))
    return target


TARGETS: dict[str, Callable[[Subject], Target]] = {
    "login-v3": _login("v3", with_fields=True),
    "login-r0": _login("r0", with_fields=False),
    "login-api-v1": _login("api/v1", with_fields=False),
    "login-totp": lambda s: Target("POST", f"{CLIENT_V3}/login", {
        **_password_auth(s.user_id), "type": TOTP_TYPE, "code": "123456"}, "anonymous"),
    "send-message": lambda s: Target(
        "PUT", f"{CLIENT_V3}/rooms/{seg(s.room_id)}/send/m.room.message/{{txn}}", {
            "msgtype": "m.text", "body": "hello", "format": "org.matrix.custom.html",
            "formatted_body": "<b>hello</b>"}),
    "send-sticker": lambda s: Target(
        "PUT", f"{CLIENT_V3}/rooms/{seg(s.room_id)}/send/m.sticker/{{txn}}", {
            "body": "sticker", "url": "mxc://localhost/fuzz", "info": {"w": 1, "h": 1}}),
    "create-room": lambda s: Target("POST", f"{CLIENT_V3}/createRoom", {
        "preset": "private_chat", "visibility": "private", "name": "fuzz", "topic": "t",
        "invite": [], "room_version": "10", "is_direct": False,
        "initial_state": [{"type": "m.room.topic", "state_key": "",
                           "content": {"topic": "x"}}],
        "power_level_content_override": {"users_default": 0},
        "creation_content": {"m.federate": True}}),
    "state-topic": _state("m.room.topic", lambda s: {"topic": "t"}),
    "state-name": _state("m.room.name", lambda s: {"name": "n"}),
    "state-join-rules": _state("m.room.join_rules", lambda s: {"join_rule": "invite"}),
    "state-custom": _state("org.example.fuzz", lambda s: {"anything": "x"}),
    "state-power-levels": _state("m.room.power_levels", lambda s: {
        "users": {s.user_id: 100}, "users_default": 0, "events": {"m.room.name": 50},
        "state_default": 50, "ban": 50, "notifications": {"room": 50}}),
    "uia-delete-devices": lambda s: Target("POST", f"{CLIENT_V3}/delete_devices", {
        "devices": ["NODEVICE"], "auth": _password_auth(s.user_id)}),
    "uia-account-password": lambda s: Target("POST", f"{CLIENT_V3}/account/password", {
        "new_password": "Another-password-42", "logout_devices": False,
        "auth": _password_auth(s.user_id)}),
    "uia-account-deactivate": lambda s: Target("POST", f"{CLIENT_V3}/account/deactivate", {
        "auth": _password_auth(s.user_id), "erase": False}),
    "uia-device-signing": lambda s: Target("POST", f"{CLIENT_V3}/keys/device_signing/upload", {
        "master_key": {"user_id": s.user_id, "usage": ["master"],
                       "keys": {"ed25519:fuzzkey": "fuzzkey"}},
        "auth": _password_auth(s.user_id)}),
    # Our own JSON endpoints that read a body (the OpenAPI fuzz covers every one too).
    "hearth-mfa-confirm": lambda s: Target("POST", f"{MFA_API}/totp/confirm", {
        "code": "123456", "password": WRONG_PASSWORD}),
    "hearth-role-assign": lambda s: Target(
        "PUT", f"{ROLES}/assignments/{seg(s.user_id)}", {"role": "member"}, "admin"),
}


async def _subject(clients: ClientFactory, server: Homeserver) -> Subject:
    """A fresh account, free of Synapse's rate limits (so every case reaches validation)."""
    user = await clients.user("fuzz")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as http:
        await AsyncAdmin(http, lambda: server.admin["access_token"]).exempt_from_rate_limits(
            user.user_id)
    room_id = await user.client.create_room(preset=RoomCreatePreset.PRIVATE)
    admin = await clients.user("fuzzadmin", admin=True)
    return Subject(user.user_id, str(user.client.api.token), str(room_id),
                   str(admin.client.api.token))


@pytest.mark.parametrize("name", list(TARGETS))
async def test_malformed_requests_get_matrix_errors(
    name: str, clients: ClientFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every corpus case at this endpoint: no 5xx, each refusal has errcode and error."""
    server = clients.server
    subject = await _subject(clients, server)
    target = TARGETS[name](subject)
    tally = FuzzTally(f"corpus-{name}-{server.engine}", server,
                      tally_dir(tmp_path_factory.getbasetemp()))
    async with httpx.AsyncClient(base_url=server.base_url, timeout=ANSWER_TIMEOUT_S) as http:
        for number, case in enumerate(cases(target.template)):
            headers = {"Content-Type": case.content_type} if case.content_type else {}
            path = target.path.replace("{txn}", f"fuzz{number}")
            token = {"user": subject.token, "admin": subject.admin_token}.get(target.requester)
            tally.before()
            try:
                response = await http.request(target.method, path, content=case.body, headers={
                    **headers, **({"Authorization": f"Bearer {token}"} if token else {})})
            except httpx.TransportError as error:  # no answer in time, or the connection dropped
                tally.record_unanswered(target.method, f"{path} [{case.name}]", headers,
                                        case.body, error)
                continue
            tally.record(target.method, f"{path} [{case.name}]", headers, case.body,
                         response.status_code, response.content)
    tally.write()
    assert not tally.problems, tally.report()
