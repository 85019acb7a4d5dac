"""The bot's Matrix client at the HTTP level, against a small scripted homeserver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from hearth.ai_bot.matrix.client import MatrixClient, build_nio_client
from hearth.ai_bot.matrix.errors import MatrixError, RateLimited, SendFailed
from hearth.ai_bot.provision import Credentials
from hearth.ai_bot.routing import NOTICE_KEY
from tests.unit.ai_bot.fake_matrix import ALICE, BOT, ROOM

Answer = tuple[int, dict[str, Any]]


@dataclass
class Homeserver:
    """Answers each (method, path) with the scripted answers in turn (the last one repeats);
    a scripted path ending in ``/`` stands for every path under it; unscripted paths get 404
    M_NOT_FOUND. Records every request."""

    script: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)

    def on(self, method: str, path: str, *answers: Answer) -> None:
        self.script[(method, path)] = list(answers)

    def received(self, method: str, path: str) -> list[tuple[dict[str, str], Any]]:
        """Query and body of each request to ``path`` (or under it, for a path ending in /)."""
        return [(q, b) for m, p, q, b in self.requests if m == method and _under(p, path)]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self.requests.append((request.method, request.path, dict(request.query), body))
        answers = next((a for (m, p), a in self.script.items()
                        if m == request.method and _under(request.path, p)), None)
        if not answers:
            return web.json_response({"errcode": "M_NOT_FOUND", "error": "nope"}, status=404)
        status, payload = answers.pop(0) if len(answers) > 1 else answers[0]
        return web.json_response(payload, status=status)


def _under(path: str, scripted: str) -> bool:
    return path == scripted or (scripted.endswith("/") and path.startswith(scripted))


@pytest.fixture
async def homeserver() -> AsyncIterator[tuple[Homeserver, str]]:
    fake = Homeserver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
async def client(homeserver: tuple[Homeserver, str], tmp_path: Path
                 ) -> AsyncIterator[MatrixClient]:
    credentials = Credentials(user_id=BOT, password="pw", access_token="tok", device_id="DEV")
    nio = build_nio_client(homeserver[1], credentials, tmp_path / "store", encryption=False)
    yield MatrixClient(nio)
    await nio.close()  # type: ignore[no-untyped-call]


V3 = "/_matrix/client/v3"
SEND = f"{V3}/rooms/{ROOM}/send/m.room.message/t1"


async def test_client_error_answers_become_matrix_errors(
        homeserver: tuple[Homeserver, str], client: MatrixClient) -> None:
    """An error answer carries its status, errcode and retry_after_ms."""
    server, _ = homeserver
    server.on("GET", f"{V3}/rooms/{ROOM}/state/m.room.topic",
              (429, {"errcode": "M_LIMIT_EXCEEDED", "error": "slow", "retry_after_ms": 1500}))
    with pytest.raises(MatrixError) as raised:
        await client.request("GET", f"{V3}/rooms/{ROOM}/state/m.room.topic")
    assert (raised.value.status, raised.value.errcode, raised.value.retry_after_ms) == (
        429, "M_LIMIT_EXCEEDED", 1500)


@pytest.mark.parametrize(("answer", "expected", "retryable"), [
    ((429, {"errcode": "M_LIMIT_EXCEEDED", "error": "", "retry_after_ms": 700}), RateLimited,
     None),
    ((403, {"errcode": "M_FORBIDDEN", "error": "not in room"}), SendFailed, False),
    ((502, {"errcode": "M_UNKNOWN", "error": "bad gateway"}), SendFailed, True),
])
async def test_client_send_refusals_say_how_to_go_on(
        homeserver: tuple[Homeserver, str], client: MatrixClient, answer: Answer,
        expected: type[Exception], retryable: bool | None) -> None:
    """A 429 says how long to pause; a 403 is final; a 5xx may be retried."""
    homeserver[0].on("PUT", SEND, answer)
    with pytest.raises(expected) as raised:
        await client.send_message(ROOM, {"msgtype": "m.text", "body": "hi"}, "t1")
    if isinstance(raised.value, RateLimited):
        assert raised.value.retry_after_ms == 700
    else:
        assert isinstance(raised.value, SendFailed) and raised.value.retryable is retryable


async def test_client_notice_retried_after_rate_limit(
        homeserver: tuple[Homeserver, str], client: MatrixClient) -> None:
    """A notice refused with M_LIMIT_EXCEEDED goes out after the pause, as a marked,
    formatted reply."""
    server, _ = homeserver
    path = f"{V3}/rooms/{ROOM}/send/m.room.message/"
    limited = {"errcode": "M_LIMIT_EXCEEDED", "error": "", "retry_after_ms": 10}
    server.on("PUT", path, (429, limited), (200, {"event_id": "$notice"}))
    relation = {"m.in_reply_to": {"event_id": "$prompt"}}
    assert await client.send_notice(ROOM, "**Done.**", relation) == "$notice"
    sends = server.received("PUT", path)
    content = sends[-1][1]
    assert len(sends) == 2 and content[NOTICE_KEY] == {} and content["msgtype"] == "m.notice"
    assert content["formatted_body"] == "<p><strong>Done.</strong></p>"
    assert content["m.relates_to"] == relation


async def test_client_missing_events_and_settings_are_none(
        homeserver: tuple[Homeserver, str], client: MatrixClient) -> None:
    """A 404 (or 403) event and absent room data read as nothing; other errors raise."""
    server, _ = homeserver
    server.on("GET", f"{V3}/rooms/{ROOM}/event/$hidden", (403, {"errcode": "M_FORBIDDEN"}))
    assert await client.get_event(ROOM, "$missing") is None
    assert await client.get_event(ROOM, "$hidden") is None
    data = f"{V3}/user/{BOT}/rooms/{ROOM}/account_data/org.hearth.ai.room"
    assert await client.get_room_data(ROOM, "org.hearth.ai.room") is None
    server.on("GET", data, (500, {"errcode": "M_UNKNOWN"}))
    with pytest.raises(MatrixError):
        await client.get_room_data(ROOM, "org.hearth.ai.room")
    server.on("PUT", data, (200, {}))
    await client.put_room_data(ROOM, "org.hearth.ai.room", {"system_prompt": "x"})
    assert server.received("PUT", data) == [({}, {"system_prompt": "x"})]


def message(n: int) -> dict[str, Any]:
    return {"type": "m.room.message", "event_id": f"${n}", "sender": ALICE,
            "origin_server_ts": n, "content": {"msgtype": "m.text", "body": f"m{n}"}}


async def test_client_recent_events_follow_pages_oldest_first(
        homeserver: tuple[Homeserver, str], client: MatrixClient) -> None:
    """History comes page by page (newest first on the wire) up to the limit, oldest first."""
    server, _ = homeserver
    server.on("GET", f"{V3}/rooms/{ROOM}/messages",
              (200, {"chunk": [message(5), message(4)], "end": "t2"}),
              (200, {"chunk": [message(3), message(2)], "end": "t3"}),
              (200, {"chunk": [message(1)]}))
    found = await client.recent_events(ROOM, 5)
    assert [e["event_id"] for e in found] == ["$1", "$2", "$3", "$4", "$5"]
    queries = [q for q, _ in server.received("GET", f"{V3}/rooms/{ROOM}/messages")]
    assert queries[1]["from"] == "t2" and queries[2] == {"dir": "b", "limit": "1", "from": "t3"}


async def test_client_thread_events_include_edits_in_time_order(
        homeserver: tuple[Homeserver, str], client: MatrixClient) -> None:
    """A thread's messages come with their edits (which relate to the message, not the
    root), ordered by time."""
    server, _ = homeserver
    edited = {**message(2), "unsigned": {"m.relations": {"m.replace": {"event_id": "$e"}}}}
    edit = {**message(3), "event_id": "$e", "content": {
        "body": "* m2b", "m.new_content": {"body": "m2b"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": "$2"}}}
    server.on("GET", "/_matrix/client/v1/rooms/!room:hs/relations/$root/m.thread",
              (200, {"chunk": [message(4), edited]}))
    server.on("GET", "/_matrix/client/v1/rooms/!room:hs/relations/$2/m.replace",
              (200, {"chunk": [edit]}))
    found = await client.thread_events(ROOM, "$root", 10)
    assert [e["event_id"] for e in found] == ["$2", "$e", "$4"]


async def test_client_power_level_counts_room_creators(
        homeserver: tuple[Homeserver, str], client: MatrixClient) -> None:
    """A listed user has their level; a room creator (room v12) outranks every level; an
    unreadable power-levels event means an ordinary user."""
    server, _ = homeserver
    levels = f"{V3}/rooms/{ROOM}/state/m.room.power_levels"
    assert await client.power_level(ROOM, ALICE) == (0, 50)
    server.on("GET", levels, (200, {"users": {"@mod:hs": 50}, "state_default": 50}))
    server.on("GET", f"{V3}/rooms/{ROOM}/state/m.room.create",
              (200, {"room_version": "12"}), (200, {"sender": ALICE, "content": {}}))
    assert await client.power_level(ROOM, "@mod:hs") == (50, 50)
    assert await client.power_level(ROOM, ALICE) == (100, 50)


async def test_client_refused_sync_raises(
        homeserver: tuple[Homeserver, str], client: MatrixClient) -> None:
    """A refused sync is an error for the sync loop to back off on, not a silent success."""
    homeserver[0].on("GET", f"{V3}/sync",
                     (429, {"errcode": "M_LIMIT_EXCEEDED", "error": "slow down"}))
    with pytest.raises(MatrixError) as raised:
        await client.sync_once(first=True)
    assert raised.value.errcode == "M_LIMIT_EXCEEDED"


async def test_client_join_and_decline(
        homeserver: tuple[Homeserver, str], client: MatrixClient) -> None:
    """Joining reports success or refusal; declining sends the reason."""
    server, _ = homeserver
    join = f"{V3}/join/{ROOM}"
    server.on("POST", join, (403, {"errcode": "M_FORBIDDEN", "error": "banned"}))
    assert await client.join_room(ROOM) is False
    server.on("POST", join, (200, {"room_id": ROOM}))
    assert await client.join_room(ROOM) is True
    server.on("POST", f"{V3}/rooms/{ROOM}/leave", (200, {}))
    await client.leave_room(ROOM, "no AI for you")
    assert server.received("POST", f"{V3}/rooms/{ROOM}/leave") == [
        ({}, {"reason": "no AI for you"})]


async def test_client_typing_and_receipts_never_raise(client: MatrixClient) -> None:
    """Typing notices and read receipts are best effort: a refusal is not an error."""
    await client.typing(ROOM, True)
    await client.read_receipt(ROOM, "$event")
