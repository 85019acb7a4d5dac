"""Group chat rooms: invitations, joining, leaving, aliases and power levels."""

from __future__ import annotations

import secrets
from typing import Any

from mautrix.types import EventType, RoomCreatePreset, RoomNameStateEventContent

from tests.harness.calls import refused, seg
from tests.harness.clients import ClientFactory, Method, User
from tests.harness.sync import SyncWatcher, room_timeline


async def _private_room_of_three(clients: ClientFactory) -> tuple[str, User, User, User]:
    """Alice creates an invite-only room, invites Bob and Carol, and both join."""
    alice = await clients.user("alice")
    bob = await clients.user("bob")
    carol = await clients.user("carol")
    room_id = await alice.client.create_room(
        preset=RoomCreatePreset.PRIVATE, name="Planning", invitees=[bob.user_id, carol.user_id]
    )
    await bob.client.join_room(room_id, max_retries=0)
    await carol.client.join_room(room_id, max_retries=0)
    return room_id, alice, bob, carol


async def _joined(user: User, room_id: str) -> set[str]:
    members = await user.client.get_joined_members(room_id)
    return set(members)


async def _set_power(creator: User, room_id: str, user_id: str, level: int) -> None:
    path = f"/_matrix/client/v3/rooms/{seg(room_id)}/state/m.room.power_levels"
    levels: dict[str, Any] = await creator.raw(Method.GET, path)
    levels.setdefault("users", {})[user_id] = level
    await creator.raw(Method.PUT, path, levels)


async def test_group_chat_members_see_each_others_messages(clients: ClientFactory) -> None:
    """In a three-person private room every member receives every member's message by /sync."""
    room_id, alice, bob, carol = await _private_room_of_three(clients)
    members = (alice, bob, carol)
    watchers = [SyncWatcher(member.client) for member in members]
    for watcher in watchers:
        await watcher.prime()

    sent = {}
    for member in members:
        body = f"hello from {member.localpart}"
        event_id = await member.client.send_text(room_id, body)
        sent[event_id] = (member.user_id, body)

    for watcher in watchers:
        seen: dict[str, tuple[str, str]] = {}

        def collect(response: dict[str, Any], seen: dict[str, tuple[str, str]] = seen) -> bool:
            for event in room_timeline(response, room_id):
                if event["type"] == "m.room.message":
                    seen[event["event_id"]] = (event["sender"], event["content"]["body"])
            return seen.keys() >= sent.keys()

        await watcher.wait_for(collect)
        assert {k: seen[k] for k in sent} == sent

    assert await _joined(alice, room_id) == {alice.user_id, bob.user_id, carol.user_id}


async def test_group_chat_leave_updates_member_list(clients: ClientFactory) -> None:
    """When Bob leaves, the others' member list drops him and his sends are refused."""
    room_id, alice, bob, carol = await _private_room_of_three(clients)
    watcher = SyncWatcher(carol.client)
    await watcher.prime()

    await bob.client.leave_room(room_id)

    leave = await watcher.wait_for(lambda r: [
        e for e in room_timeline(r, room_id)
        if e["type"] == "m.room.member" and e["state_key"] == bob.user_id
    ])
    assert leave[0]["content"]["membership"] == "leave"
    assert await _joined(alice, room_id) == {alice.user_id, carol.user_id}
    await refused(bob.client.send_text(room_id, "still here?"), 403, "M_FORBIDDEN")


async def test_private_room_refuses_uninvited_join(clients: ClientFactory) -> None:
    """A user without an invitation cannot join an invite-only room: 403 M_FORBIDDEN."""
    room_id, alice, bob, carol = await _private_room_of_three(clients)
    mallory = await clients.user("mallory")

    await refused(mallory.client.join_room(room_id, max_retries=0), 403, "M_FORBIDDEN")
    await refused(
        mallory.raw(Method.GET, f"/_matrix/client/v3/rooms/{seg(room_id)}/messages",
                    query={"dir": "b"}),
        403, "M_FORBIDDEN",
    )
    assert await _joined(alice, room_id) == {alice.user_id, bob.user_id, carol.user_id}


async def test_public_room_joined_by_alias(clients: ClientFactory) -> None:
    """Anyone on the server can join a public room by its alias, and an unknown alias is 404."""
    alice = await clients.user("alice")
    dave = await clients.user("dave")
    localpart = f"lobby{secrets.token_hex(3)}"
    room_id = await alice.client.create_room(
        alias_localpart=localpart, preset=RoomCreatePreset.PUBLIC
    )
    alias = f"#{localpart}:{clients.server.server_name}"

    joined = await dave.client.join_room(alias, max_retries=0)

    assert joined == room_id
    assert await _joined(alice, room_id) == {alice.user_id, dave.user_id}
    await refused(
        dave.client.join_room(f"#no{localpart}:{clients.server.server_name}", max_retries=0),
        404, "M_NOT_FOUND",
    )


async def test_power_levels_moderator_may_rename_member_may_not(clients: ClientFactory) -> None:
    """After the creator raises Bob to 50, Bob can rename the room; Carol (0) gets 403."""
    room_id, alice, bob, carol = await _private_room_of_three(clients)
    await refused(
        bob.client.send_state_event(
            room_id, EventType.ROOM_NAME, RoomNameStateEventContent(name="Bob's room")
        ),
        403, "M_FORBIDDEN",
    )

    await _set_power(alice, room_id, bob.user_id, 50)

    await bob.client.send_state_event(
        room_id, EventType.ROOM_NAME, RoomNameStateEventContent(name="Bob's room")
    )
    await refused(
        carol.client.send_state_event(
            room_id, EventType.ROOM_NAME, RoomNameStateEventContent(name="Carol's room")
        ),
        403, "M_FORBIDDEN",
    )
    name = await carol.client.get_state_event(room_id, EventType.ROOM_NAME)
    assert name.name == "Bob's room"


async def test_kick_needs_power(clients: ClientFactory) -> None:
    """An ordinary member cannot kick (403); a moderator kicks a member but not the creator."""
    room_id, alice, bob, carol = await _private_room_of_three(clients)
    await refused(bob.client.kick_user(room_id, carol.user_id), 403, "M_FORBIDDEN")

    await _set_power(alice, room_id, bob.user_id, 50)
    carol_watcher = SyncWatcher(carol.client)
    await carol_watcher.prime()
    await bob.client.kick_user(room_id, carol.user_id, reason="off topic")

    left = await carol_watcher.wait_for(
        lambda r: r.get("rooms", {}).get("leave", {}).get(room_id)
    )
    kick = [e for e in left["timeline"]["events"]
            if e["type"] == "m.room.member" and e["state_key"] == carol.user_id]
    assert kick[-1]["sender"] == bob.user_id
    assert kick[-1]["content"]["membership"] == "leave"
    assert kick[-1]["content"]["reason"] == "off topic"
    assert await _joined(alice, room_id) == {alice.user_id, bob.user_id}
    await refused(bob.client.kick_user(room_id, alice.user_id), 403, "M_FORBIDDEN")
    await refused(carol.client.join_room(room_id, max_retries=0), 403, "M_FORBIDDEN")
