"""Editing messages (m.replace) and redacting them, as the other members see it."""

from __future__ import annotations

from typing import Any

from mautrix.types import EventType, RoomCreatePreset

from tests.harness.calls import refused, seg
from tests.harness.clients import ClientFactory, Method, User
from tests.harness.sync import SyncWatcher, room_timeline


async def _room_with(clients: ClientFactory, *names: str) -> tuple[str, list[User]]:
    """The first user creates a private room; the others are invited and join."""
    users = [await clients.user(name) for name in names]
    room_id = await users[0].client.create_room(
        preset=RoomCreatePreset.PRIVATE, invitees=[u.user_id for u in users[1:]]
    )
    for user in users[1:]:
        await user.client.join_room(room_id, max_retries=0)
    return room_id, users


def _edit(original: str, body: str) -> dict[str, Any]:
    return {
        "msgtype": "m.text",
        "body": f"* {body}",
        "m.new_content": {"msgtype": "m.text", "body": body},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original},
    }


async def _send(user: User, room_id: str, content: dict[str, Any]) -> str:
    return str(await user.client.send_message_event(room_id, EventType.ROOM_MESSAGE, content))


async def _event(user: User, room_id: str, event_id: str) -> dict[str, Any]:
    """The event as the client API returns it (raw JSON, unsigned data included)."""
    event: dict[str, Any] = await user.raw(
        Method.GET, f"/_matrix/client/v3/rooms/{seg(room_id)}/event/{seg(event_id)}"
    )
    return event


async def _replacements(user: User, room_id: str, event_id: str) -> list[dict[str, Any]]:
    page = await user.raw(
        Method.GET,
        f"/_matrix/client/v1/rooms/{seg(room_id)}/relations/{seg(event_id)}/m.replace",
    )
    chunk: list[dict[str, Any]] = page["chunk"]
    return chunk


async def test_edit_seen_by_other_member(clients: ClientFactory) -> None:
    """Bob sees Alice's edit in /sync, in the relations API and bundled on the original."""
    room_id, (alice, bob) = await _room_with(clients, "alice", "bob")
    original = await _send(alice, room_id, {"msgtype": "m.text", "body": "teh meeting is at 3"})
    watcher = SyncWatcher(bob.client)
    await watcher.prime()

    edit = await _send(alice, room_id, _edit(original, "the meeting is at 3"))

    synced = await watcher.wait_for(
        lambda r: [e for e in room_timeline(r, room_id) if e["event_id"] == edit]
    )
    assert synced[0]["sender"] == alice.user_id
    assert synced[0]["content"]["m.new_content"] == {
        "msgtype": "m.text", "body": "the meeting is at 3"
    }
    assert synced[0]["content"]["m.relates_to"] == {"rel_type": "m.replace", "event_id": original}

    relations = await _replacements(bob, room_id, original)
    assert [e["event_id"] for e in relations] == [edit]

    fetched = await _event(bob, room_id, original)
    assert fetched["content"]["body"] == "teh meeting is at 3"  # the original stays as sent
    bundled = fetched["unsigned"]["m.relations"]["m.replace"]
    assert bundled["event_id"] == edit
    assert bundled["content"]["m.new_content"]["body"] == "the meeting is at 3"


async def test_edit_by_other_sender_not_applied(clients: ClientFactory) -> None:
    """Carol's m.replace of Alice's message is listed as a relation but never bundled."""
    room_id, (alice, bob, carol) = await _room_with(clients, "alice", "bob", "carol")
    original = await _send(alice, room_id, {"msgtype": "m.text", "body": "lunch at noon"})

    forged = await _send(carol, room_id, _edit(original, "lunch is cancelled"))

    # Synapse accepts and stores the event, and /relations lists every m.replace...
    assert [e["event_id"] for e in await _replacements(bob, room_id, original)] == [forged]
    # ...but does not treat it as the replacement of the original.
    fetched = await _event(bob, room_id, original)
    assert "m.relations" not in fetched.get("unsigned", {})
    assert fetched["content"]["body"] == "lunch at noon"

    genuine = await _send(alice, room_id, _edit(original, "lunch at one"))

    relations = await _replacements(bob, room_id, original)
    assert {e["event_id"] for e in relations} == {forged, genuine}
    bundled = (await _event(bob, room_id, original))["unsigned"]["m.relations"]["m.replace"]
    assert bundled["event_id"] == genuine
    assert bundled["sender"] == alice.user_id
    assert bundled["content"]["m.new_content"]["body"] == "lunch at one"


async def test_redacted_message_seen_empty_with_reason(clients: ClientFactory) -> None:
    """After Alice redacts her message, Bob gets it with empty content and redacted_because."""
    room_id, (alice, bob) = await _room_with(clients, "alice", "bob")
    message = await _send(alice, room_id, {"msgtype": "m.text", "body": "my password is hunter2"})
    watcher = SyncWatcher(bob.client)
    await watcher.prime()

    redaction = await alice.client.redact(room_id, message, reason="posted by mistake")

    synced = await watcher.wait_for(
        lambda r: [e for e in room_timeline(r, room_id) if e["event_id"] == redaction]
    )
    assert synced[0]["type"] == "m.room.redaction"
    assert synced[0]["redacts"] == message
    fetched = await _event(bob, room_id, message)
    assert fetched["content"] == {}
    because = fetched["unsigned"]["redacted_because"]
    assert because["event_id"] == redaction
    assert because["sender"] == alice.user_id
    assert because["content"]["reason"] == "posted by mistake"


async def test_redaction_of_others_message_refused_for_member(clients: ClientFactory) -> None:
    """Bob (power 0) cannot redact Alice's message: 403 M_FORBIDDEN, and it stays intact."""
    room_id, (alice, bob) = await _room_with(clients, "alice", "bob")
    message = await _send(alice, room_id, {"msgtype": "m.text", "body": "keep me"})

    await refused(bob.client.redact(room_id, message, reason="nope"), 403, "M_FORBIDDEN")

    fetched = await _event(bob, room_id, message)
    assert fetched["content"] == {"msgtype": "m.text", "body": "keep me"}
    assert "redacted_because" not in fetched.get("unsigned", {})
    # Bob may still redact his own message.
    own = await _send(bob, room_id, {"msgtype": "m.text", "body": "typo"})
    await bob.client.redact(room_id, own)
    assert (await _event(alice, room_id, own))["content"] == {}
