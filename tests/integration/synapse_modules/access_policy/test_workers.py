"""Across processes: a role change reaches another Synapse process within a second, and the
per-role rate limits count in one Redis bucket for all processes."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from hearth.render import PROJECT_DIR
from hearth.synapse_admin import register_user
from tests.harness.ports import free_port, free_port_block
from tests.harness.postgres import require_postgres_or_skip, temporary_database
from tests.harness.redis import REDIS, require_redis
from tests.harness.roles import ROLES, metric_value
from tests.harness.server import Homeserver

POLICY = PROJECT_DIR / "tests" / "harness" / "policy.yaml"


def _role_seen(http: httpx.Client, base: str, user_id: str, role: str, admin: dict[str, str],
               timeout: float = 5.0) -> float:
    """Seconds until ``base`` enforces ``role`` for ``user_id`` (its cached, effective view)."""
    start = time.monotonic()
    while True:
        reply = http.get(f"{base}{ROLES}/users/{quote(user_id)}", headers=admin)
        assert reply.status_code == 200, reply.text
        if reply.json()["role"] == role:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{base} still shows {reply.json()['role']!r}, not {role!r}")
        time.sleep(0.02)


def _send(http: httpx.Client, base: str, room: str, auth: dict[str, str]) -> httpx.Response:
    return http.put(f"{base}/_matrix/client/v3/rooms/{quote(room)}/send/m.room.message/"
                    f"{uuid.uuid4().hex}", json={"msgtype": "m.text", "body": "hi"},
                    headers=auth)


def test_role_changes_and_rate_limits_are_shared_by_main_and_worker(
    tmp_path: Path, smtp_port: int,
) -> None:
    """Assign on main: the worker enforces it within 1 s (and back); one bucket for both."""
    require_postgres_or_skip()
    require_redis()
    port = free_port()
    base_port = free_port_block(10)
    with temporary_database("hearth_policy") as database:
        server = Homeserver(
            name="policy-workers", data_dir=tmp_path, port=port, metrics_port=base_port + 6,
            profile="production",
            settings=(
                "server.name=localhost", f"server.public_baseurl=http://127.0.0.1:{port}/",
                f"database.user={database.user}", f"database.name={database.name}",
                f"database.host={database.host}", f"database.port={database.port}",
                f"redis.host={REDIS[0]}", f"redis.port={REDIS[1]}",
                f"email.smtp_port={smtp_port}", "email.require_transport_security=false",
                "workers.generic_workers=1", "workers.event_persisters=0",
                "workers.federation_senders=0", "workers.media_workers=0",
                f"workers.base_port={base_port}", f"workers.replication_port={base_port + 5}",
                "rate_limits.message_per_second=100", "rate_limits.message_burst=100",
                f"modules.access_policy_file={POLICY}",
            ),
        )
        server.start()
        try:
            _exercise(server, main=server.base_url, worker=f"http://127.0.0.1:{base_port}",
                      worker_metrics=f"http://127.0.0.1:{base_port + 7}/_synapse/metrics")
        finally:
            server.stop()


def _exercise(server: Homeserver, main: str, worker: str, worker_metrics: str) -> None:
    admin_account = register_user(main, server.shared_secret, "policyadmin", admin=True)
    admin = {"Authorization": f"Bearer {admin_account.access_token}"}
    account = register_user(main, server.shared_secret, "roleuser")
    user_id = account.user_id
    auth = {"Authorization": f"Bearer {account.access_token}"}
    assignment = f"{ROLES}/assignments/{quote(user_id)}"
    with httpx.Client(timeout=30) as http:
        # The worker knows the user as a member, and has that cached.
        _role_seen(http, worker, user_id, "member", admin)
        room = http.post(f"{worker}/_matrix/client/v3/createRoom", json={}, headers=auth)
        assert room.status_code == 200, room.text

        put = http.put(f"{main}{assignment}", json={"role": "guest"}, headers=admin)
        assert put.status_code == 200, put.text
        assert _role_seen(http, worker, user_id, "guest", admin) < 1.0
        refused = http.post(f"{worker}/_matrix/client/v3/createRoom", json={}, headers=auth)
        assert refused.status_code == 403, refused.text
        assert "(permission: create_rooms)" in refused.json()["error"]

        revoke = http.delete(f"{worker}{assignment}", headers=admin)  # written by the worker
        assert revoke.status_code == 200, revoke.text
        assert _role_seen(http, main, user_id, "member", admin) < 1.0

        # One bucket (3 at once, 0.2/s) in Redis for both processes.
        assert http.put(f"{main}{assignment}", json={"role": "shared"},
                        headers=admin).status_code == 200
        _role_seen(http, worker, user_id, "shared", admin)
        room_id = room.json()["room_id"]
        for base in (main, worker, main):
            sent = _send(http, base, room_id, auth)
            assert sent.status_code == 200, (base, sent.text)
        limited: Any = _send(http, worker, room_id, auth)
        assert limited.status_code == 429, limited.text
        body = limited.json()
        assert body["errcode"] == "M_LIMIT_EXCEEDED" and body["retry_after_ms"] > 0
        assert "(limit: messages)" in body["error"]
        assert metric_value(worker_metrics, "hearth_policy_rate_limited_total",
                            limiter="messages") == 1
