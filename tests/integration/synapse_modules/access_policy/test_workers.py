"""Across processes: a role change made on one Synapse process is enforced by another, and the
per-role rate limits count in one Redis bucket for all processes."""

from __future__ import annotations

import time
import uuid
from urllib.parse import quote

import httpx
import pytest

from hearth.synapse_admin import register_user
from tests.harness.roles import ROLES, metric_value
from tests.harness.server import WorkerCluster
from tests.harness.server_pool import ServerPool

# The production worker cluster: its tests share one test process (tests/conftest.py).
pytestmark = pytest.mark.cluster

def _await_role(http: httpx.Client, base: str, user_id: str, role: str,
                admin: dict[str, str], timeout: float = 30.0) -> None:
    """Poll until ``base`` enforces ``role`` for ``user_id`` (its cached, effective view).

    Roles are cached per process until the policy version moves, so a process showing the
    new role has picked up the other process's change: no expiry could explain it."""
    deadline = time.monotonic() + timeout
    while True:
        reply = http.get(f"{base}{ROLES}/users/{quote(user_id)}", headers=admin)
        assert reply.status_code == 200, reply.text
        if reply.json()["role"] == role:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{base} still shows {reply.json()['role']!r}, not {role!r}")
        time.sleep(0.05)


def _send(http: httpx.Client, base: str, room: str, auth: dict[str, str]) -> httpx.Response:
    return http.put(f"{base}/_matrix/client/v3/rooms/{quote(room)}/send/m.room.message/"
                    f"{uuid.uuid4().hex}", json={"msgtype": "m.text", "body": "hi"},
                    headers=auth)


def test_role_changes_and_rate_limits_are_shared_by_main_and_worker(
    server_pool: ServerPool,
) -> None:
    """Assign on main: the worker enforces it (and a revoke on the worker reaches main); one
    Redis bucket counts the messages sent through both."""
    cluster: WorkerCluster = server_pool.workers()
    server, main, worker = cluster.server, cluster.server.base_url, cluster.generic_url
    admin_account = register_user(main, server.shared_secret, f"policyadmin{uuid.uuid4().hex[:6]}",
                                  admin=True)
    admin = {"Authorization": f"Bearer {admin_account.access_token}"}
    account = register_user(main, server.shared_secret, f"roleuser{uuid.uuid4().hex[:6]}")
    user_id = account.user_id
    auth = {"Authorization": f"Bearer {account.access_token}"}
    assignment = f"{ROLES}/assignments/{quote(user_id)}"
    with httpx.Client(timeout=30) as http:
        # The worker knows the user as a member, and has that cached.
        _await_role(http, worker, user_id, "member", admin)
        room = http.post(f"{worker}/_matrix/client/v3/createRoom", json={}, headers=auth)
        assert room.status_code == 200, room.text

        put = http.put(f"{main}{assignment}", json={"role": "guest"}, headers=admin)
        assert put.status_code == 200, put.text
        _await_role(http, worker, user_id, "guest", admin)
        refused = http.post(f"{worker}/_matrix/client/v3/createRoom", json={}, headers=auth)
        assert refused.status_code == 403, refused.text
        assert "(permission: create_rooms)" in refused.json()["error"]

        revoke = http.delete(f"{worker}{assignment}", headers=admin)  # written by the worker
        assert revoke.status_code == 200, revoke.text
        _await_role(http, main, user_id, "member", admin)

        # One bucket (3 at once, refilled one per 100 s: no refill between these sends) in
        # Redis for both processes.
        assert http.put(f"{main}{assignment}", json={"role": "shared"},
                        headers=admin).status_code == 200
        _await_role(http, worker, user_id, "shared", admin)
        room_id = room.json()["room_id"]
        before = metric_value(cluster.generic_metrics_url, "hearth_policy_rate_limited_total",
                              limiter="messages")
        statuses = [_send(http, base, room_id, auth).status_code
                    for base in (main, worker, main)]
        assert statuses == [200, 200, 200]
        limited = _send(http, worker, room_id, auth)
        assert limited.status_code == 429, limited.text
        body = limited.json()
        assert body["errcode"] == "M_LIMIT_EXCEEDED" and body["retry_after_ms"] > 0
        assert "(limit: messages)" in body["error"]
        assert metric_value(cluster.generic_metrics_url, "hearth_policy_rate_limited_total",
                            limiter="messages") == before + 1
