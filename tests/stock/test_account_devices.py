"""Devices: each login is a named device; deleting or logging out one ends only its session."""

from __future__ import annotations

from dataclasses import dataclass

from tests.harness.accounts import CLIENT_V3, call, login, offers_stage, whoami, with_password
from tests.harness.clients import ClientFactory, User
from tests.harness.server import Homeserver

DEVICES = f"{CLIENT_V3}/devices"


@dataclass(frozen=True)
class Session:
    """One logged-in device of a user."""

    device_id: str
    token: str


async def log_in(clients: ClientFactory, user: User, device_name: str) -> Session:
    reply = await login(clients.server, user.user_id, user.password, device_name)
    assert reply.status == 200, reply
    return Session(reply.body["device_id"], reply.body["access_token"])


async def laptop_and_phone(clients: ClientFactory, prefix: str) -> tuple[User, Session, Session]:
    """A fresh user signed in twice more, as "Laptop" and as "Phone"."""
    user = await clients.user(prefix)
    return user, await log_in(clients, user, "Laptop"), await log_in(clients, user, "Phone")


async def device_names(homeserver: Homeserver, token: str) -> dict[str, str | None]:
    """device_id -> display name, as GET /devices shows them to the owner."""
    listed = await call(homeserver, "GET", DEVICES, token=token)
    assert listed.status == 200, listed
    return {d["device_id"]: d.get("display_name") for d in listed.body["devices"]}


async def assert_signed_out(homeserver: Homeserver, token: str) -> None:
    reply = await whoami(homeserver, token)
    assert (reply.status, reply.errcode) == (401, "M_UNKNOWN_TOKEN")


async def assert_signed_in(homeserver: Homeserver, token: str, user: User) -> None:
    reply = await whoami(homeserver, token)
    assert (reply.status, reply.body.get("user_id")) == (200, user.user_id), reply


async def test_devices_list_shows_each_login_with_its_name(clients: ClientFactory) -> None:
    """Two logins appear in GET /devices as two devices, under the names they were given."""
    _, laptop, phone = await laptop_and_phone(clients, "devices")
    assert laptop.device_id != phone.device_id

    names = await device_names(clients.server, laptop.token)
    assert names[laptop.device_id] == "Laptop"
    assert names[phone.device_id] == "Phone"
    # Plus the device the account was registered with, and nothing else.
    assert len(names) == 3

    one = await call(clients.server, "GET", f"{DEVICES}/{phone.device_id}", token=laptop.token)
    assert one.status == 200
    assert (one.body["device_id"], one.body["display_name"]) == (phone.device_id, "Phone")


async def test_device_deletion_signs_out_only_that_device(clients: ClientFactory) -> None:
    """Deleting a device (after re-entering the password) ends its session, not the others."""
    user, laptop, phone = await laptop_and_phone(clients, "devdel")

    deleted = await with_password(
        clients.server, "DELETE", f"{DEVICES}/{phone.device_id}", {},
        token=laptop.token, user_id=user.user_id, password=user.password,
    )
    assert (deleted.status, deleted.body) == (200, {})

    await assert_signed_out(clients.server, phone.token)
    await assert_signed_in(clients.server, laptop.token, user)
    names = await device_names(clients.server, laptop.token)
    assert phone.device_id not in names
    assert laptop.device_id in names


async def test_device_deletion_needs_the_password(clients: ClientFactory) -> None:
    """Without completing UIA the delete is refused 401 and the device stays signed in."""
    user, laptop, phone = await laptop_and_phone(clients, "devuia")

    refused = await call(clients.server, "DELETE", f"{DEVICES}/{phone.device_id}", {},
                         token=laptop.token)
    assert refused.status == 401
    assert offers_stage(refused, "m.login.password")
    await assert_signed_in(clients.server, phone.token, user)


async def test_logout_ends_only_the_current_session(clients: ClientFactory) -> None:
    """POST /logout invalidates the calling token and removes its device; others keep working."""
    user, laptop, phone = await laptop_and_phone(clients, "logout")

    out = await call(clients.server, "POST", f"{CLIENT_V3}/logout", {}, token=phone.token)
    assert (out.status, out.body) == (200, {})

    await assert_signed_out(clients.server, phone.token)
    await assert_signed_in(clients.server, laptop.token, user)
    await assert_signed_in(clients.server, user.client.api.token, user)
    assert phone.device_id not in await device_names(clients.server, laptop.token)


async def test_logout_all_ends_every_session(clients: ClientFactory) -> None:
    """POST /logout/all invalidates every token of the user, including the calling one."""
    user, laptop, phone = await laptop_and_phone(clients, "logoutall")

    out = await call(clients.server, "POST", f"{CLIENT_V3}/logout/all", {}, token=laptop.token)
    assert (out.status, out.body) == (200, {})

    for token in (laptop.token, phone.token, user.client.api.token):
        await assert_signed_out(clients.server, token)
    # The password still works: logging out is not locking out.
    fresh = await log_in(clients, user, "After logout")
    assert list(await device_names(clients.server, fresh.token)) == [fresh.device_id]


async def test_device_of_another_user_cannot_be_deleted(clients: ClientFactory) -> None:
    """Bob cannot see Alice's device (404); his DELETE removes nothing and she stays signed in."""
    # Synapse looks the device up among the caller's own devices only, so Bob's DELETE, after
    # Bob's own password, answers 200 {} without touching Alice's device.
    alice = await clients.user("alice")
    bob = await clients.user("bob")
    alice_phone = await log_in(clients, alice, "Alice's phone")
    path = f"{DEVICES}/{alice_phone.device_id}"

    seen = await call(clients.server, "GET", path, token=bob.client.api.token)
    assert (seen.status, seen.errcode) == (404, "M_NOT_FOUND")

    deleted = await with_password(clients.server, "DELETE", path, {},
                                  token=bob.client.api.token, user_id=bob.user_id,
                                  password=bob.password)
    assert (deleted.status, deleted.body) == (200, {})

    await assert_signed_in(clients.server, alice_phone.token, alice)
    names = await device_names(clients.server, alice_phone.token)
    assert names[alice_phone.device_id] == "Alice's phone"
    await assert_signed_in(clients.server, bob.client.api.token, bob)
