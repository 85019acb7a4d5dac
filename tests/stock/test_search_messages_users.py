"""Server-side message search and the user directory (search_all_users is off)."""

from __future__ import annotations

import secrets
from typing import Any

from mautrix.types import RoomCreatePreset

from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory, Method, User


async def _search_messages(user: User, term: str) -> dict[str, Any]:
    response = await user.raw(
        Method.POST, "/_matrix/client/v3/search",
        {"search_categories": {"room_events": {"search_term": term}}},
    )
    found: dict[str, Any] = response["search_categories"]["room_events"]
    return found


async def _search_users(user: User, term: str) -> list[dict[str, Any]]:
    response = await user.raw(
        Method.POST, "/_matrix/client/v3/user_directory/search",
        {"search_term": term, "limit": 10},
    )
    results: list[dict[str, Any]] = response["results"]
    return results


async def test_message_search_finds_word_in_own_rooms_only(clients: ClientFactory) -> None:
    """A unique word is found by a member of the room, and not by someone outside it."""
    alice = await clients.user("alice")
    bob = await clients.user("bob")
    outsider = await clients.user("eve")
    room_id = await alice.client.create_room(
        preset=RoomCreatePreset.PRIVATE, invitees=[bob.user_id]
    )
    await bob.client.join_room(room_id, max_retries=0)
    word = f"quokka{secrets.token_hex(5)}"
    event_id = await alice.client.send_text(room_id, f"the {word} budget is approved")
    # The outsider has a room of his own, so "no result" is not just "no rooms".
    own_room = await outsider.client.create_room(preset=RoomCreatePreset.PRIVATE)
    await outsider.client.send_text(own_room, "nothing to see here")

    found = await eventually(lambda: _search_messages(bob, word), lambda r: r["count"] > 0,
                             what=f"search for {word}")

    assert found["count"] == 1
    hit = found["results"][0]["result"]
    assert (hit["event_id"], hit["room_id"], hit["sender"]) == (event_id, room_id, alice.user_id)
    assert hit["content"]["body"] == f"the {word} budget is approved"
    assert word in found["highlights"]

    hidden = await _search_messages(outsider, word)
    assert (hidden["count"], hidden["results"]) == (0, [])


async def test_user_directory_finds_room_mate_by_display_name(clients: ClientFactory) -> None:
    """Bob finds Alice by her display name once they share a room."""
    name = f"Zephyrine {secrets.token_hex(3)}"
    alice = await clients.user("alice", displayname=name)
    bob = await clients.user("bob")
    room_id = await alice.client.create_room(
        preset=RoomCreatePreset.PRIVATE, invitees=[bob.user_id]
    )
    await bob.client.join_room(room_id, max_retries=0)

    results = await eventually(lambda: _search_users(bob, name), bool,
                               what=f"directory search for {name!r}")

    assert [(r["user_id"], r["display_name"]) for r in results] == [(alice.user_id, name)]


async def test_user_directory_hides_stranger(clients: ClientFactory) -> None:
    """A user sharing no room and in no public room is not found (search_all_users is false)."""
    stranger_name = f"Quillon {secrets.token_hex(3)}"
    mate_name = f"Quillon {secrets.token_hex(3)}"
    stranger = await clients.user("stranger", displayname=stranger_name)
    mate = await clients.user("mate", displayname=mate_name)
    bob = await clients.user("bob")
    # The stranger is active, only in a private room of his own.
    await stranger.client.create_room(preset=RoomCreatePreset.PRIVATE)
    room_id = await mate.client.create_room(
        preset=RoomCreatePreset.PRIVATE, invitees=[bob.user_id]
    )
    await bob.client.join_room(room_id, max_retries=0)

    # Wait until the directory has caught up with the room Bob shares with the mate;
    # by then the stranger, registered earlier, has long been processed too.
    await eventually(lambda: _search_users(bob, mate_name), bool,
                     what=f"directory search for {mate_name!r}")

    assert await _search_users(bob, stranger_name) == []
    assert await _search_users(bob, stranger.localpart) == []
    assert [r["user_id"] for r in await _search_users(bob, "Quillon")] == [mate.user_id]
