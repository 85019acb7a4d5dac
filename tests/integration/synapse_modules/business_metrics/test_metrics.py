"""Business metrics on the Prometheus endpoint move by exactly what users did."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from mautrix.types import EventType, RoomCreatePreset
from prometheus_client.parser import text_string_to_metric_families

from tests.harness.calls import eventually
from tests.harness.clients import DEFAULT_PASSWORD, ClientFactory
from tests.harness.server import Homeserver

KINDS = ("m.text", "m.notice", "m.emote", "m.image", "m.file", "edit", "encrypted", "other")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def _scrape(http: httpx.AsyncClient, server: Homeserver) -> Samples:
    response = await http.get(server.metrics_url)
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; a labelled counter not yet incremented is absent, which means 0."""
    return samples.get((name, frozenset({"server_name": "localhost", **labels}.items())), 0.0)


def _messages(samples: Samples) -> dict[str, float]:
    return {kind: _value(samples, "hearth_messages_total", kind=kind) for kind in KINDS}


def _delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {key: after[key] - before[key] for key in before}


async def test_messages_counted_by_kind(clients: ClientFactory, http: httpx.AsyncClient) -> None:
    """Three texts, a notice, an emote and an edit add exactly 3/1/1/1; other events add 0."""
    alice = await clients.user("alice")
    bob = await clients.user("bob")
    room_id = await alice.client.create_room(
        preset=RoomCreatePreset.PRIVATE, invitees=[bob.user_id]
    )
    await bob.client.join_room(room_id, max_retries=0)
    before = _messages(await _scrape(http, clients.server))

    first = await alice.client.send_text(room_id, "first")
    await bob.client.send_text(room_id, "second")
    await alice.client.send_message_event(
        room_id, EventType.ROOM_MESSAGE, {"msgtype": "m.notice", "body": "build passed"}
    )
    await bob.client.send_message_event(
        room_id, EventType.ROOM_MESSAGE, {"msgtype": "m.emote", "body": "waves"}
    )
    await alice.client.send_message_event(room_id, EventType.ROOM_MESSAGE, {
        "msgtype": "m.text", "body": "* first!", "m.new_content": {"msgtype": "m.text",
                                                                   "body": "first!"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": first},
    })
    # Not messages: a reaction, a redaction and a state change.
    await bob.client.react(room_id, first, "👍")
    await alice.client.send_state_event(room_id, EventType.ROOM_TOPIC, {"topic": "metrics"})
    doomed = await bob.client.send_text(room_id, "to be removed")
    await bob.client.redact(room_id, doomed)

    expected = {kind: 0.0 for kind in KINDS} | {
        "m.text": 3.0, "m.notice": 1.0, "m.emote": 1.0, "edit": 1.0
    }

    async def delta() -> dict[str, float]:
        return _delta(before, _messages(await _scrape(http, clients.server)))

    seen = await eventually(
        delta, lambda d: all(d[k] >= expected[k] for k in KINDS), what="message counters"
    )
    assert seen == expected


async def test_rooms_created_counted(clients: ClientFactory, http: httpx.AsyncClient) -> None:
    """Creating two rooms adds exactly 2 to hearth_rooms_created_total; joining adds nothing."""
    alice = await clients.user("alice")
    bob = await clients.user("bob")
    before = _value(await _scrape(http, clients.server), "hearth_rooms_created_total")

    await alice.client.create_room(preset=RoomCreatePreset.PRIVATE, name="one")
    public = await alice.client.create_room(preset=RoomCreatePreset.PUBLIC, name="two")
    await bob.client.join_room(public, max_retries=0)

    async def created() -> float:
        samples = await _scrape(http, clients.server)
        return _value(samples, "hearth_rooms_created_total") - before

    assert await eventually(created, lambda d: d >= 2, what="rooms counter") == 2


async def test_registration_via_client_api_counted(
    clients: ClientFactory, http: httpx.AsyncClient
) -> None:
    """A /register with the m.login.dummy stage adds exactly 1 to hearth_registrations_total."""
    url = f"{clients.server.base_url}/_matrix/client/v3/register"
    username = f"newcomer{secrets.token_hex(3)}"
    before = _value(await _scrape(http, clients.server), "hearth_registrations_total")

    challenge = await http.post(url, json={"username": username, "password": DEFAULT_PASSWORD})
    assert challenge.status_code == 401
    flows: list[dict[str, Any]] = challenge.json()["flows"]
    assert {"stages": ["m.login.dummy"]} in flows
    done = await http.post(url, json={
        "username": username, "password": DEFAULT_PASSWORD,
        "auth": {"type": "m.login.dummy", "session": challenge.json()["session"]},
    })
    assert done.status_code == 200, done.text
    assert done.json()["user_id"] == f"@{username}:{clients.server.server_name}"

    async def registered() -> float:
        samples = await _scrape(http, clients.server)
        return _value(samples, "hearth_registrations_total") - before

    assert await eventually(registered, lambda d: d >= 1, what="registrations counter") == 1
