"""Content guard on a real server: HTML outside m.room.message's formatted_body is sanitised too.

Each event type and field a client renders as HTML is sent by Alice with the same attack and
read back by Bob (through /messages, /state and /event); both databases.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from mautrix.types import EventType, PaginationDirection, RoomCreatePreset, UserID
from prometheus_client.parser import text_string_to_metric_families

from hearth.synapse_modules.content_guard.sanitize import sanitise_html
from tests.harness.calls import refused, seg
from tests.harness.clients import ClientFactory, Method, User, private_room_of_two
from tests.harness.server import Homeserver
from tests.unit.synapse_modules.content_guard.xss_corpus import XSS_PAYLOADS, assert_harmless

ATTACK = (
    '<b onclick="alert(1)">hi</b><script>alert(document.cookie)</script>'
    '<a href="javascript:alert(1)">link</a><img src="https://tracker.example/p.gif" alt="pic">'
    '<span style="background:url(javascript:alert(1))">styled</span><svg onload=alert(1)>'
)
CLEAN = "<b>hi</b><a>link</a>pic<span>styled</span>"
SAFE = '<b>bold</b> <a href="https://matrix.org/">matrix</a>'


def _text(html: str) -> list[dict[str, str]]:
    return [{"mimetype": "text/plain", "body": "plain <b>kept</b>"},
            {"mimetype": "text/html", "body": html}]


# (event type, content built around the HTML, where the HTML sits)
MESSAGE_FIELDS: list[tuple[str, Any, tuple[str | int, ...]]] = [
    ("m.sticker", lambda h: {"body": "sticker", "url": "mxc://localhost/s",
                             "info": {"mimetype": "image/png"},
                             "format": "org.matrix.custom.html", "formatted_body": h},
     ("formatted_body",)),
    ("m.room.message", lambda h: {"msgtype": "m.notice", "body": "plain",
                                  "format": "org.matrix.custom.html", "formatted_body": h},
     ("formatted_body",)),
    ("m.room.message", lambda h: {"msgtype": "m.text", "body": "plain", "m.text": _text(h)},
     ("m.text", 1, "body")),
    ("m.room.message", lambda h: {"msgtype": "m.text", "body": "plain",
                                  "org.matrix.msc1767.message": _text(h)},
     ("org.matrix.msc1767.message", 1, "body")),
    ("m.message", lambda h: {"m.text": _text(h)}, ("m.text", 1, "body")),
    ("m.message", lambda h: {"org.matrix.msc1767.text": "plain", "org.matrix.msc1767.html": h},
     ("org.matrix.msc1767.html",)),
    ("org.matrix.msc3381.poll.start", lambda h: {
        "org.matrix.msc3381.poll.start": {
            "kind": "org.matrix.msc3381.poll.disclosed", "max_selections": 1,
            "question": {"org.matrix.msc1767.text": "q", "org.matrix.msc1767.html": h},
            "answers": [{"id": "a", "org.matrix.msc1767.text": "yes"}]},
        "org.matrix.msc1767.text": "q"},
     ("org.matrix.msc3381.poll.start", "question", "org.matrix.msc1767.html")),
    ("m.poll.start", lambda h: {
        "m.poll": {"kind": "m.disclosed", "max_selections": 1,
                   "question": {"m.text": [{"body": "q"}]},
                   "answers": [{"m.id": "a", "m.text": _text(h)}]},
        "m.text": [{"body": "q"}]},
     ("m.poll", "answers", 0, "m.text", 1, "body")),
    ("m.poll.end", lambda h: {"m.text": _text(h)}, ("m.text", 1, "body")),
    ("com.example.card", lambda h: {"card": {"formatted_body": h}}, ("card", "formatted_body")),
]
FIELD_IDS = [f"{t}:{'.'.join(map(str, p))}" for t, _, p in MESSAGE_FIELDS]


def _at(content: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        content = content[key]
    return content


async def _timeline(user: User, room_id: str) -> dict[str, dict[str, Any]]:
    """Every event of the room as ``user`` reads it through /messages, by event ID."""
    page = await user.raw(
        Method.GET, f"/_matrix/client/v3/rooms/{seg(room_id)}/messages",
        query={"dir": PaginationDirection.BACKWARD.value, "limit": "100"},
    )
    return {event["event_id"]: event for event in page["chunk"]}


async def _topic(user: User, room_id: str) -> dict[str, Any]:
    content: dict[str, Any] = await user.raw(
        Method.GET, f"/_matrix/client/v3/rooms/{seg(room_id)}/state/m.room.topic")
    return content


async def _fields_metric(server: Homeserver, event_type: str, field: str) -> float:
    async with httpx.AsyncClient(timeout=30) as http:
        text = (await http.get(server.metrics_url)).text
    wanted = {"server_name": "localhost", "event_type": event_type, "field": field}
    return sum(
        sample.value for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "hearth_content_sanitised_fields_total" and sample.labels == wanted
    )


@pytest.mark.parametrize(("event_type", "build", "path"), MESSAGE_FIELDS, ids=FIELD_IDS)
async def test_other_member_reads_sanitised_field(
    clients: ClientFactory, event_type: str, build: Any, path: tuple[str | int, ...]
) -> None:
    """Bob reads Alice's attack in this field sanitised, and her safe HTML exactly as sent."""
    room_id, alice, bob = await private_room_of_two(clients)
    attack = str(await alice.client.send_message_event(room_id, EventType.find(event_type),
                                                       build(ATTACK)))
    safe = str(await alice.client.send_message_event(room_id, EventType.find(event_type),
                                                     build(SAFE)))
    timeline = await _timeline(bob, room_id)
    assert _at(timeline[attack]["content"], path) == CLEAN
    assert timeline[attack]["content"] == _with(build(ATTACK), path, CLEAN)
    assert timeline[safe]["content"] == build(SAFE)
    fetched = await bob.raw(Method.GET,
                            f"/_matrix/client/v3/rooms/{seg(room_id)}/event/{seg(attack)}")
    assert _at(fetched["content"], path) == CLEAN


def _with(content: Any, path: tuple[str | int, ...], value: str) -> Any:
    _at(content, path[:-1])[path[-1]] = value
    return content


async def test_topic_html_sanitised_both_shapes(clients: ClientFactory) -> None:
    """A topic's HTML (spec m.topic.m.text and MSC3765 list) reaches Bob sanitised; text kept."""
    room_id, alice, bob = await private_room_of_two(clients)
    before = await _fields_metric(clients.server, "m.room.topic", "html_representation")
    spec = {"topic": "plain <b>kept</b>", "m.topic": {"m.text": _text(ATTACK)}}
    first = await alice.client.send_state_event(room_id, EventType.ROOM_TOPIC, spec)
    topic = await _topic(bob, room_id)
    assert topic == {"topic": "plain <b>kept</b>", "m.topic": {"m.text": _text(CLEAN)}}

    await alice.client.send_state_event(room_id, EventType.ROOM_TOPIC,
                                        {"topic": "t", "m.topic": _text(ATTACK)})
    assert await _topic(bob, room_id) == {"topic": "t", "m.topic": _text(CLEAN)}
    timeline = await _timeline(bob, room_id)
    assert timeline[str(first)]["content"] == topic
    assert await _fields_metric(clients.server, "m.room.topic", "html_representation") == (
        before + 2)


async def test_create_room_initial_state_html_sanitised(clients: ClientFactory) -> None:
    """HTML in a createRoom request is sanitised, and the room is built as one unforked chain."""
    alice = await clients.user("alice")
    bob = await clients.user("bob")
    admin = await clients.user("admin", admin=True)
    room_id = await alice.client.create_room(
        preset=RoomCreatePreset.PRIVATE, invitees=[UserID(bob.user_id)],
        creation_content={"com.example.note": {"formatted_body": ATTACK}},
        initial_state=[{"type": "m.room.topic", "state_key": "",
                        "content": {"topic": "t", "m.topic": {"m.text": _text(ATTACK)}}},
                       {"type": "com.example.banner", "state_key": "",
                        "content": {"formatted_body": ATTACK}}],
    )
    # A replacement inside the creation batch would hang off the creator's join, beside the
    # preset's events: two forward extremities instead of one.
    extremities = await admin.raw(
        Method.GET, f"/_synapse/admin/v1/rooms/{seg(room_id)}/forward_extremities")
    assert extremities["count"] == 1
    await bob.client.join_room(room_id, max_retries=0)
    assert await _topic(bob, room_id) == {"topic": "t", "m.topic": {"m.text": _text(CLEAN)}}
    state = f"/_matrix/client/v3/rooms/{seg(room_id)}/state"
    assert await bob.raw(Method.GET, f"{state}/com.example.banner") == {"formatted_body": CLEAN}
    create = await bob.raw(Method.GET, f"{state}/m.room.create")
    assert create["com.example.note"] == {"formatted_body": CLEAN}
    join_rules = await bob.raw(Method.GET, f"{state}/m.room.join_rules")
    assert join_rules["join_rule"] == "invite"
    sent = str(await bob.client.send_text(room_id, "after"))
    assert sent in await _timeline(alice, room_id)


async def test_whole_corpus_in_one_event_sanitised(clients: ClientFactory) -> None:
    """Every payload of the corpus, as representations of one topic, is stored harmless."""
    room_id, alice, bob = await private_room_of_two(clients)
    representations = [{"mimetype": "text/html", "body": payload} for _, payload in XSS_PAYLOADS]
    await alice.client.send_state_event(room_id, EventType.ROOM_TOPIC,
                                        {"topic": "t", "m.topic": {"m.text": representations}})
    stored = (await _topic(bob, room_id))["m.topic"]["m.text"]
    assert len(stored) == len(XSS_PAYLOADS)
    for (name, payload), representation in zip(XSS_PAYLOADS, stored, strict=True):
        assert representation["body"] == sanitise_html(payload), name
        assert_harmless(representation["body"])


async def test_non_string_html_refused_and_not_stored(clients: ClientFactory) -> None:
    """An HTML field that is not a string is refused with 400 M_BAD_JSON; the old topic stays."""
    room_id, alice, bob = await private_room_of_two(clients)
    await alice.client.send_state_event(room_id, EventType.ROOM_TOPIC, {"topic": "before"})
    error = await refused(
        alice.client.send_state_event(room_id, EventType.ROOM_TOPIC, {
            "topic": "t", "m.topic": {"m.text": [{"mimetype": "text/html", "body": ["<b>"]}]}}),
        400, "M_BAD_JSON")
    assert error.message == "'m.topic.m.text[0].body' must be a string, not an array"
    error = await refused(
        alice.client.send_message_event(room_id, EventType.find("m.sticker"),
                                        {"body": "s", "url": "mxc://localhost/s",
                                         "formatted_body": {"html": ATTACK}}),
        400, "M_BAD_JSON")
    assert error.message == "'formatted_body' must be a string, not an object"
    assert await _topic(bob, room_id) == {"topic": "before"}
