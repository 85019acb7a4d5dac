"""Registration through the client API, then password login; refusals a new user can meet."""

from __future__ import annotations

import secrets

import pytest

from tests.harness.accounts import (
    CLIENT_V3,
    WEAK_PASSWORDS,
    call,
    login,
    offers_stage,
    start_uia,
    whoami,
)
from tests.harness.clients import DEFAULT_PASSWORD, ClientFactory
from tests.harness.server import Homeserver

REGISTER = f"{CLIENT_V3}/register"


def fresh_localpart(prefix: str = "reg") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


async def test_registration_with_dummy_auth_then_password_login(homeserver: Homeserver) -> None:
    """/register answers a UIA challenge, m.login.dummy completes it, and the password logs in."""
    localpart = fresh_localpart()
    user_id = f"@{localpart}:{homeserver.server_name}"
    body = {"username": localpart, "password": DEFAULT_PASSWORD,
            "initial_device_display_name": "Registration device"}

    challenge = await start_uia(homeserver, "POST", REGISTER, body)
    assert offers_stage(challenge, "m.login.dummy")

    done = await call(homeserver, "POST", REGISTER, {
        **body, "auth": {"type": "m.login.dummy", "session": challenge.body["session"]},
    })
    assert done.status == 200, done
    assert done.body["user_id"] == user_id
    registered = await whoami(homeserver, done.body["access_token"])
    assert registered.status == 200
    assert registered.body["user_id"] == user_id
    assert registered.body["device_id"] == done.body["device_id"]

    logged_in = await login(homeserver, localpart, DEFAULT_PASSWORD, "Login device")
    assert logged_in.status == 200, logged_in
    assert logged_in.body["user_id"] == user_id
    me = await whoami(homeserver, logged_in.body["access_token"])
    assert me.status == 200
    assert me.body["user_id"] == user_id
    assert me.body["device_id"] == logged_in.body["device_id"] != done.body["device_id"]


async def test_login_with_wrong_password_is_refused(clients: ClientFactory) -> None:
    """A wrong password at /login gets 403 M_FORBIDDEN and no token; the right one still works."""
    user = await clients.user("wrongpw")
    refused = await login(clients.server, user.user_id, "not-the-password-123")
    assert (refused.status, refused.errcode) == (403, "M_FORBIDDEN")
    assert "access_token" not in refused.body

    accepted = await login(clients.server, user.user_id, user.password)
    assert accepted.status == 200, accepted


async def test_registration_of_taken_username_is_refused(clients: ClientFactory) -> None:
    """Registering a username someone already has is refused 400 M_USER_IN_USE, before UIA."""
    existing = await clients.user("taken")
    refused = await call(clients.server, "POST", REGISTER,
                         {"username": existing.localpart, "password": "another-password-77"})
    assert (refused.status, refused.errcode) == (400, "M_USER_IN_USE")

    available = await call(clients.server, "GET", f"{REGISTER}/available",
                           query={"username": existing.localpart})
    assert (available.status, available.errcode) == (400, "M_USER_IN_USE")
    # The owner's password is untouched.
    assert (await login(clients.server, existing.user_id, existing.password)).status == 200


@pytest.mark.parametrize(("password", "errcode"), WEAK_PASSWORDS)
async def test_registration_with_weak_password_is_refused(
    homeserver: Homeserver, password: str, errcode: str
) -> None:
    """A password breaking the policy is refused 400 with the rule's errcode; no account exists."""
    localpart = fresh_localpart("weak")
    refused = await call(homeserver, "POST", REGISTER,
                         {"username": localpart, "password": password})
    assert (refused.status, refused.errcode) == (400, errcode)

    no_login = await login(homeserver, localpart, password)
    assert (no_login.status, no_login.errcode) == (403, "M_FORBIDDEN")
    available = await call(homeserver, "GET", f"{REGISTER}/available",
                           query={"username": localpart})
    assert available.status == 200
    assert available.body == {"available": True}
