"""Synapse's rate-limit override, set and removed on the main process, is honoured by a worker
(no per-process copy of ours goes stale)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest

from hearth.synapse_admin import register_user
from tests.harness.roles import ROLES
from tests.harness.server import WorkerCluster
from tests.harness.server_pool import ServerPool

# The production worker cluster: its tests share one test process (tests/conftest.py).
pytestmark = pytest.mark.cluster

BURST = 3  # role `shared`: 3 at once, one per 100 s


def _send(http: httpx.Client, base: str, room: str, auth: dict[str, str]) -> int:
    return http.put(f"{base}/_matrix/client/v3/rooms/{quote(room)}/send/m.room.message/"
                    f"{uuid.uuid4().hex}", json={"msgtype": "m.text", "body": "hi"},
                    headers=auth).status_code


def _until(probe: Callable[[], int], wanted: int, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while (status := probe()) != wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {status}")
        time.sleep(0.1)


def test_override_set_and_removed_on_main_is_honoured_by_worker(
    server_pool: ServerPool,
) -> None:
    """Exhausted on the worker; the override on main lets it send; removed, it is limited."""
    cluster: WorkerCluster = server_pool.workers()
    server, main, worker = cluster.server, cluster.server.base_url, cluster.generic_url
    admin_account = register_user(main, server.shared_secret,
                                  f"ovadmin{uuid.uuid4().hex[:6]}", admin=True)
    admin = {"Authorization": f"Bearer {admin_account.access_token}"}
    account = register_user(main, server.shared_secret, f"ovuser{uuid.uuid4().hex[:6]}")
    auth = {"Authorization": f"Bearer {account.access_token}"}
    override = f"{main}/_synapse/admin/v1/users/{quote(account.user_id)}/override_ratelimit"
    with httpx.Client(timeout=30) as http:
        assigned = http.put(f"{main}{ROLES}/assignments/{quote(account.user_id)}",
                            json={"role": "shared"}, headers=admin)
        assert assigned.status_code == 200, assigned.text
        room = http.post(f"{worker}/_matrix/client/v3/createRoom", json={}, headers=auth)
        assert room.status_code == 200, room.text
        room_id = room.json()["room_id"]
        _until(lambda: _send(http, worker, room_id, auth), 429, "the role limit on the worker")

        put = http.post(override, json={"messages_per_second": 0, "burst_count": 0},
                        headers=admin)
        assert put.status_code == 200, put.text
        _until(lambda: _send(http, worker, room_id, auth), 200, "the override on the worker")
        assert [_send(http, worker, room_id, auth) for _ in range(5)] == [200] * 5

        assert http.delete(override, headers=admin).status_code == 200
        _until(lambda: _send(http, worker, room_id, auth), 429, "the removal on the worker")
