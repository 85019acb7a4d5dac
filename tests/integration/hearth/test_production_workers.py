"""The production profile really runs: PostgreSQL, Redis and Synapse workers sharing one config."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx

from hearth.synapse_admin import register_user
from tests.harness.ports import free_port, free_port_block
from tests.harness.postgres import require_postgres_or_skip, temporary_database
from tests.harness.redis import REDIS, require_redis
from tests.harness.server import Homeserver


def test_production_profile_with_workers(tmp_path: Path, smtp_port: int) -> None:
    """Events persisted by an event-persister worker reach /sync served by a generic worker."""
    require_postgres_or_skip()
    require_redis()
    port = free_port()
    base_port = free_port_block(10)
    with temporary_database("hearth_prod") as database:
        server = Homeserver(
            name="production", data_dir=tmp_path, port=port, metrics_port=base_port + 6,
            profile="production",
            settings=(
                "server.name=localhost", f"server.public_baseurl=http://127.0.0.1:{port}/",
                f"database.user={database.user}", f"database.name={database.name}",
                f"database.host={database.host}", f"database.port={database.port}",
                f"redis.host={REDIS[0]}", f"redis.port={REDIS[1]}",
                f"email.smtp_port={smtp_port}", "email.require_transport_security=false",
                "workers.generic_workers=1", "workers.event_persisters=1",
                "workers.federation_senders=0", "workers.media_workers=0",
                f"workers.base_port={base_port}", f"workers.replication_port={base_port + 5}",
                "rate_limits.message_per_second=100", "rate_limits.message_burst=100",
            ),
        )
        server.start()
        try:
            assert [line for line in server.output if line.startswith("starting")] == [
                f"starting synapse (log: {tmp_path}/logs/synapse.out)",
                f"starting event_persister1 (log: {tmp_path}/logs/event_persister1.out)",
                f"starting generic1 (log: {tmp_path}/logs/generic1.out)",
            ]
            generic = f"http://127.0.0.1:{base_port + 2}"
            account = register_user(server.base_url, server.shared_secret, "worker_user")
            auth = {"Authorization": f"Bearer {account.access_token}"}
            with httpx.Client(timeout=30, headers=auth) as http:
                room = http.post(f"{server.base_url}/_matrix/client/v3/createRoom",
                                 json={}).json()["room_id"]
                body = f"through the workers {uuid.uuid4()}"
                sent = http.put(f"{server.base_url}/_matrix/client/v3/rooms/{room}/send/"
                                f"m.room.message/t1", json={"msgtype": "m.text", "body": body})
                assert sent.status_code == 200, sent.text
                deadline = time.monotonic() + 20
                seen = False
                while not seen and time.monotonic() < deadline:
                    sync = http.get(f"{generic}/_matrix/client/v3/sync",
                                    params={"timeout": 1000}).json()
                    timeline = sync.get("rooms", {}).get("join", {}).get(room, {})
                    seen = any(e.get("content", {}).get("body") == body
                               for e in timeline.get("timeline", {}).get("events", []))
                assert seen, "the generic worker's /sync never showed the message"
            persister_log = (tmp_path / "logs" / "event_persister1.log").read_text()
            assert "event_persister1" in persister_log
        finally:
            server.stop()
