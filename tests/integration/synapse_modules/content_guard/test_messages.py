"""Content guard on a real server: others see sanitised HTML; malformed content gets 400."""

from __future__ import annotations

from typing import Any

import httpx
from mautrix.types import EventType, PaginationDirection
from prometheus_client.parser import text_string_to_metric_families

from tests.harness.calls import refused, seg
from tests.harness.clients import ClientFactory, Method, User, private_room_of_two
from tests.harness.server import Homeserver
from tests.harness.sync import SyncWatcher, room_timeline

HTML = "org.matrix.custom.html"

LEGIT = (
    '<b>bold</b> <i>it</i> <a href="https://matrix.to/#/@alice:example.org">Alice</a> '
    '<a href="mailto:a@example.org">mail</a> <span data-mx-spoiler="">spoiler</span> '
    '<span data-mx-color="#ff0000">red</span> <img src="mxc://localhost/abcDEF" alt="cat">'
    '<pre><code class="language-python">x = 1 &lt; 2\n</code></pre>'
    "<ul><li>one</li></ul><table><tbody><tr><td>cell</td></tr></tbody></table>"
    '<mx-reply><blockquote><a href="https://matrix.to/#/!r:localhost/$e">In reply to</a>'
    "</blockquote></mx-reply>reply"
)
XSS = (
    '<b onclick="alert(1)">hi</b><script>alert(document.cookie)</script>'
    '<a href="javascript:alert(1)">link</a><img src=x onerror=alert(1)>'
    '<span style="background:url(javascript:alert(1))">styled</span><svg onload=alert(1)>'
)
XSS_CLEAN = "<b>hi</b><a>link</a><span>styled</span>"


async def _send(user: User, room_id: str, content: dict[str, Any]) -> str:
    return str(await user.client.send_message_event(room_id, EventType.ROOM_MESSAGE, content))


async def _messages(user: User, room_id: str) -> list[dict[str, Any]]:
    """The room's m.room.message events as ``user`` reads them through /messages, oldest first."""
    page = await user.raw(
        Method.GET, f"/_matrix/client/v3/rooms/{seg(room_id)}/messages",
        query={"dir": PaginationDirection.BACKWARD.value, "limit": "100"},
    )
    return [e for e in reversed(page["chunk"]) if e["type"] == "m.room.message"]


async def _metric(server: Homeserver, name: str, **labels: str) -> float:
    async with httpx.AsyncClient(timeout=30) as http:
        text = (await http.get(server.metrics_url)).text
    wanted = {"server_name": "localhost", **labels}
    return sum(
        sample.value for family in text_string_to_metric_families(text)
        for sample in family.samples if sample.name == name and sample.labels == wanted
    )


async def test_other_member_sees_sanitised_html(clients: ClientFactory) -> None:
    """Bob receives Alice's XSS attempt sanitised and her legit formatting exactly as sent."""
    room_id, alice, bob = await private_room_of_two(clients)
    sanitised_before = await _metric(clients.server, "hearth_content_sanitised_total")
    watcher = SyncWatcher(bob.client)
    await watcher.prime()

    legit = await _send(alice, room_id, {"msgtype": "m.text", "body": "legit > body",
                                         "format": HTML, "formatted_body": LEGIT})
    attack = await _send(alice, room_id, {"msgtype": "m.text", "body": "<script>kept</script>",
                                          "format": HTML, "formatted_body": XSS})

    synced = await watcher.wait_for(
        lambda r: [e for e in room_timeline(r, room_id) if e["event_id"] == attack]
    )
    assert synced[0]["content"] == {"msgtype": "m.text", "body": "<script>kept</script>",
                                    "format": HTML, "formatted_body": XSS_CLEAN}
    by_id = {e["event_id"]: e["content"] for e in await _messages(bob, room_id)}
    assert by_id[legit] == {"msgtype": "m.text", "body": "legit > body", "format": HTML,
                            "formatted_body": LEGIT}
    assert by_id[attack]["formatted_body"] == XSS_CLEAN
    assert by_id[attack]["body"] == "<script>kept</script>"  # plain text is never touched
    # What is stored is the sanitised event: the sender reads it back the same way.
    own = await alice.raw(Method.GET,
                          f"/_matrix/client/v3/rooms/{seg(room_id)}/event/{seg(attack)}")
    assert own["content"]["formatted_body"] == XSS_CLEAN
    assert own["sender"] == alice.user_id
    assert await _metric(clients.server, "hearth_content_sanitised_total") == (
        sanitised_before + 1
    )


async def test_edit_new_content_sanitised(clients: ClientFactory) -> None:
    """An edit's m.new_content.formatted_body is sanitised; the edit still applies."""
    room_id, alice, bob = await private_room_of_two(clients)
    original = await _send(alice, room_id, {"msgtype": "m.text", "body": "first"})
    edit = await _send(alice, room_id, {
        "msgtype": "m.text", "body": "* second", "format": HTML,
        "formatted_body": "* <em>second</em>",
        "m.new_content": {"msgtype": "m.text", "body": "second", "format": HTML,
                          "formatted_body": '<em onmouseover="alert(1)">second</em>'
                                            '<iframe src="javascript:alert(1)"></iframe>'},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original},
    })

    fetched = await bob.raw(Method.GET,
                            f"/_matrix/client/v3/rooms/{seg(room_id)}/event/{seg(original)}")
    bundled = fetched["unsigned"]["m.relations"]["m.replace"]
    assert bundled["event_id"] == edit
    assert bundled["content"]["formatted_body"] == "* <em>second</em>"
    assert bundled["content"]["m.new_content"] == {
        "msgtype": "m.text", "body": "second", "format": HTML, "formatted_body": "<em>second</em>"
    }
    assert bundled["content"]["m.relates_to"] == {"rel_type": "m.replace", "event_id": original}


async def test_malformed_content_refused_and_not_stored(clients: ClientFactory) -> None:
    """Wrong types, oversized and too-deep fields get 400 with a clear message; none is stored.

    A top-level ``body`` or ``msgtype`` that is missing or not a string is refused by Synapse's
    own event validator before any module runs, with 400 M_UNKNOWN; every other problem is
    the content guard's 400 M_BAD_JSON.
    """
    room_id, alice, bob = await private_room_of_two(clients)
    refused_before = await _metric(clients.server, "hearth_content_refused_total",
                                   reason="wrong_type")
    ours: list[tuple[dict[str, Any], str]] = [
        ({"msgtype": "m.text", "body": "x", "format": HTML,
          "formatted_body": {"html": "<b>x</b>"}},
         "'formatted_body' must be a string, not an object"),
        ({"msgtype": "m.text", "body": "x", "format": 1, "formatted_body": "x"},
         "'format' must be a string, not a number"),
        ({"msgtype": "m.text", "body": "x" * 40_000},
         "'body' is 40000 bytes long; at most 32768 are allowed"),
        ({"msgtype": "m.text", "body": "deep", "format": HTML,
          "formatted_body": "<div>" * 120 + "x"},
         "'formatted_body' nests HTML tags 120 levels deep; at most 100 are allowed"),
        ({"msgtype": "m.text", "body": "* e", "m.new_content": {"msgtype": "m.text"},
          "m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}},
         "'m.new_content.body' is required in an m.room.message"),
    ]
    for content, message in ours:
        error = await refused(_send(alice, room_id, content), 400, "M_BAD_JSON")
        assert error.message == message
    synapses: list[tuple[dict[str, Any], str]] = [
        ({"msgtype": "m.text", "body": 42}, "'body' not a string type"),
        ({"body": "no msgtype"}, "'msgtype' not in content"),
    ]
    for content, message in synapses:
        error = await refused(_send(alice, room_id, content), 400, "M_UNKNOWN")
        assert error.message == message

    marker = await _send(alice, room_id, {"msgtype": "m.text", "body": "after the refusals"})
    seen = await _messages(bob, room_id)
    assert [e["event_id"] for e in seen] == [marker]
    assert await _metric(clients.server, "hearth_content_refused_total",
                         reason="wrong_type") == refused_before + 2
