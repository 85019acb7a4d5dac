"""Message history: what was sent comes back in order through /messages pagination."""

from __future__ import annotations

from mautrix.types import MessageType, PaginationDirection, TextMessageEventContent

from tests.harness.clients import ClientFactory


async def test_history_paginates_backwards_in_order(clients: ClientFactory) -> None:
    """Thirty messages come back newest-first in pages of ten, none lost or repeated."""
    alice = await clients.user("alice")
    bob = await clients.user("bob")
    room_id = await alice.client.create_room(invitees=[bob.user_id])
    await bob.client.join_room(room_id)
    for index in range(30):
        await alice.client.send_message(
            room_id, TextMessageEventContent(msgtype=MessageType.TEXT, body=f"message {index}")
        )

    bodies: list[str] = []
    token = None
    pages = 0
    while True:
        page = await bob.client.get_messages(
            room_id, direction=PaginationDirection.BACKWARD, from_token=token, limit=10
        )
        pages += 1
        bodies += [e.content.body for e in page.events if e.type.t == "m.room.message"]
        if not page.end or not page.events:
            break
        token = page.end

    assert bodies == [f"message {i}" for i in reversed(range(30))]
    assert pages >= 3
