"""The access policy's admin API (roles), as the server's first admin."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from tests.harness.accounts import Reply, call
from tests.harness.clients import ClientFactory, User
from tests.harness.logins import metric
from tests.harness.server import Homeserver

ROLES = "/_synapse/client/hearth/v1/admin/roles"


async def set_role(server: Homeserver, user_id: str, role: str) -> Reply:
    """Assign ``role`` to ``user_id``; fails the test unless the server accepts it."""
    reply = await call(server, "PUT", f"{ROLES}/assignments/{quote(user_id, safe='')}",
                       {"role": role}, token=server.admin["access_token"])
    assert reply.status == 200, reply
    return reply


async def effective(server: Homeserver, user_id: str) -> dict[str, Any]:
    """The user's effective role and permissions, as the server enforces them now."""
    reply = await call(server, "GET", f"{ROLES}/users/{quote(user_id, safe='')}",
                       token=server.admin["access_token"])
    assert reply.status == 200, reply
    return reply.body


def metric_value(metrics_url: str, name: str, **labels: str) -> float:
    """The value of one Prometheus series at ``metrics_url`` now (0.0 when absent)."""
    return metric(httpx.get(metrics_url, timeout=10).text, name, **labels)


async def user_with_role(clients: ClientFactory, role: str) -> User:
    """A fresh account holding ``role`` (members keep the default, unassigned)."""
    user = await clients.user(role.replace("_", ""))
    if role != "member":
        await set_role(clients.server, user.user_id, role)
    return user
