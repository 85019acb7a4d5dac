"""The production profile really runs: PostgreSQL, Redis and Synapse workers sharing one config."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from hearth.synapse_admin import register_user
from tests.harness.server_pool import ServerPool

# The production worker cluster: its tests share one test process (tests/conftest.py).
pytestmark = pytest.mark.cluster


def test_production_profile_with_workers(server_pool: ServerPool) -> None:
    """Events persisted by an event-persister worker reach /sync served by a generic worker."""
    cluster = server_pool.workers()
    server, logs = cluster.server, cluster.server.data_dir / "logs"
    assert [line for line in server.output if line.startswith("starting")] == [
        f"starting synapse (log: {logs}/synapse.out)",
        f"starting event_persister1 (log: {logs}/event_persister1.out)",
        f"starting generic1 (log: {logs}/generic1.out)",
    ]
    account = register_user(server.base_url, server.shared_secret, f"worker{uuid.uuid4().hex[:6]}")
    auth = {"Authorization": f"Bearer {account.access_token}"}
    with httpx.Client(timeout=30, headers=auth) as http:
        room = http.post(f"{server.base_url}/_matrix/client/v3/createRoom",
                         json={}).json()["room_id"]
        body = f"through the workers {uuid.uuid4()}"
        sent = http.put(f"{server.base_url}/_matrix/client/v3/rooms/{room}/send/"
                        f"m.room.message/t1", json={"msgtype": "m.text", "body": body})
        assert sent.status_code == 200, sent.text
        deadline = time.monotonic() + 30
        seen = False
        while not seen and time.monotonic() < deadline:  # each /sync long-polls up to 1 s
            sync = http.get(f"{cluster.generic_url}/_matrix/client/v3/sync",
                            params={"timeout": 1000}).json()
            timeline = sync.get("rooms", {}).get("join", {}).get(room, {})
            seen = any(e.get("content", {}).get("body") == body
                       for e in timeline.get("timeline", {}).get("events", []))
        assert seen, "the generic worker's /sync never showed the message"
    assert "event_persister1" in (logs / "event_persister1.log").read_text()
