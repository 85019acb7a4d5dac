"""Read receipts and typing notifications, as the other member sees them in /sync."""

from __future__ import annotations

from typing import Any

from tests.harness.calls import refused, seg
from tests.harness.clients import ClientFactory, Method, private_room_of_two
from tests.harness.sync import SyncWatcher, room_ephemeral


def _ephemeral(room_id: str, kind: str) -> Any:
    """A /sync predicate returning the ephemeral events of ``kind`` in ``room_id``."""
    return lambda r: [e for e in room_ephemeral(r, room_id) if e["type"] == kind]


def _typing_path(room_id: str, user_id: str) -> str:
    return f"/_matrix/client/v3/rooms/{seg(room_id)}/typing/{seg(user_id)}"


async def test_read_receipt_seen_by_sender(clients: ClientFactory) -> None:
    """Bob's m.read receipt on Alice's message reaches Alice's /sync, naming Bob and the event."""
    room_id, alice, bob = await private_room_of_two(clients)
    message = await alice.client.send_text(room_id, "did you read this?")
    watcher = SyncWatcher(alice.client)
    await watcher.prime()

    await bob.raw(
        Method.POST,
        f"/_matrix/client/v3/rooms/{seg(room_id)}/receipt/m.read/{seg(message)}", {},
    )

    def bobs_receipt(response: dict[str, Any]) -> Any:
        for event in _ephemeral(room_id, "m.receipt")(response):
            read = event["content"].get(message, {}).get("m.read", {})
            if bob.user_id in read:
                return read[bob.user_id]
        return None

    receipt = await watcher.wait_for(bobs_receipt)
    assert isinstance(receipt["ts"], int)


async def test_typing_started_and_stopped_seen_by_other(clients: ClientFactory) -> None:
    """Alice's /sync shows Bob typing after he starts, and no longer after he stops."""
    room_id, alice, bob = await private_room_of_two(clients)
    watcher = SyncWatcher(alice.client)
    await watcher.prime()

    await bob.raw(Method.PUT, _typing_path(room_id, bob.user_id),
                  {"typing": True, "timeout": 30000})
    typing = await watcher.wait_for(_ephemeral(room_id, "m.typing"))
    assert typing[-1]["content"]["user_ids"] == [bob.user_id]

    await bob.raw(Method.PUT, _typing_path(room_id, bob.user_id), {"typing": False})
    stopped = await watcher.wait_for(_ephemeral(room_id, "m.typing"))
    assert bob.user_id not in stopped[-1]["content"]["user_ids"]


async def test_typing_for_another_user_refused(clients: ClientFactory) -> None:
    """Bob cannot set Alice's typing state; Synapse answers 400 (not 403) with M_FORBIDDEN."""
    room_id, alice, bob = await private_room_of_two(clients)

    await refused(
        bob.raw(Method.PUT, _typing_path(room_id, alice.user_id),
                {"typing": True, "timeout": 30000}),
        400, "M_FORBIDDEN",
    )


async def test_typing_in_room_not_joined_refused(clients: ClientFactory) -> None:
    """A user outside the room cannot announce typing in it: 403 M_FORBIDDEN."""
    room_id, _alice, _bob = await private_room_of_two(clients)
    mallory = await clients.user("mallory")

    await refused(
        mallory.raw(Method.PUT, _typing_path(room_id, mallory.user_id),
                    {"typing": True, "timeout": 30000}),
        403, "M_FORBIDDEN",
    )
