"""Changing one's password with the current one: what logs in afterwards, and what is refused."""

from __future__ import annotations

import pytest

from tests.harness.accounts import (
    CLIENT_V3,
    WEAK_PASSWORDS,
    call,
    login,
    password_identity,
    start_uia,
    whoami,
    with_password,
)
from tests.harness.clients import ClientFactory, User

PASSWORD = f"{CLIENT_V3}/account/password"
NEW_PASSWORD = "a-brand-new-passphrase-2024"


async def second_session(clients: ClientFactory, user: User) -> str:
    """Log the user in on another device and return that session's access token."""
    other = await login(clients.server, user.user_id, user.password, "Other device")
    assert other.status == 200, other
    token: str = other.body["access_token"]
    return token


async def test_password_change_replaces_the_old_password(clients: ClientFactory) -> None:
    """After a change the old password is refused, the new one works, other sessions end."""
    user = await clients.user("pwchange")
    other_token = await second_session(clients, user)

    changed = await with_password(
        clients.server, "POST", PASSWORD, {"new_password": NEW_PASSWORD},
        token=user.client.api.token, user_id=user.user_id, password=user.password,
    )
    assert (changed.status, changed.body) == (200, {})

    old = await login(clients.server, user.user_id, user.password)
    assert (old.status, old.errcode) == (403, "M_FORBIDDEN")
    new = await login(clients.server, user.user_id, NEW_PASSWORD)
    assert new.status == 200, new

    # logout_devices defaults to true: every other session is signed out, this one is kept.
    ended = await whoami(clients.server, other_token)
    assert (ended.status, ended.errcode) == (401, "M_UNKNOWN_TOKEN")
    kept = await whoami(clients.server, user.client.api.token)
    assert (kept.status, kept.body["user_id"]) == (200, user.user_id)


async def test_password_change_with_wrong_current_password_is_refused(
    clients: ClientFactory,
) -> None:
    """A wrong current password fails the UIA stage (401, M_FORBIDDEN); nothing changes."""
    user = await clients.user("pwwrong")
    other_token = await second_session(clients, user)
    token = user.client.api.token
    body = {"new_password": NEW_PASSWORD}

    challenge = await start_uia(clients.server, "POST", PASSWORD, body, token=token)
    auth = {**password_identity(user.user_id, "not-my-password-1"),
            "session": challenge.body["session"]}
    refused = await call(clients.server, "POST", PASSWORD, {**body, "auth": auth}, token=token)
    assert (refused.status, refused.errcode) == (401, "M_FORBIDDEN")
    # Still a UIA answer: same session, the flows again, no stage completed.
    assert refused.body["session"] == challenge.body["session"]
    assert refused.body["flows"] == challenge.body["flows"]
    assert refused.body["completed"] == []

    assert (await login(clients.server, user.user_id, NEW_PASSWORD)).status == 403
    assert (await login(clients.server, user.user_id, user.password)).status == 200
    assert (await whoami(clients.server, other_token)).status == 200


@pytest.mark.parametrize(("weak", "errcode"), WEAK_PASSWORDS)
async def test_password_change_to_weak_password_is_refused(
    clients: ClientFactory, weak: str, errcode: str
) -> None:
    """A new password breaking the policy is refused 400 even with correct auth; old one works."""
    user = await clients.user("pwweak")
    other_token = await second_session(clients, user)
    token = user.client.api.token

    # The policy is checked before UIA: the very first attempt is already refused.
    first = await call(clients.server, "POST", PASSWORD, {"new_password": weak}, token=token)
    assert (first.status, first.errcode) == (400, errcode)
    # And with a correct UIA password stage as well.
    challenge = await start_uia(clients.server, "POST", PASSWORD, {}, token=token)
    auth = {**password_identity(user.user_id, user.password),
            "session": challenge.body["session"]}
    refused = await call(clients.server, "POST", PASSWORD,
                         {"new_password": weak, "auth": auth}, token=token)
    assert (refused.status, refused.errcode) == (400, errcode)

    assert (await login(clients.server, user.user_id, weak)).status == 403
    assert (await login(clients.server, user.user_id, user.password)).status == 200
    assert (await whoami(clients.server, other_token)).status == 200
