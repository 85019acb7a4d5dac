"""Synapse's per-user rate-limit override (the admin API admins already use) wins over the
role's message limit: 0 exempts the user, other values replace the limit; removing it limits
the user again."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from tests.harness.accounts import CLIENT_V3, Reply, call
from tests.harness.calls import seg
from tests.harness.clients import ClientFactory, User
from tests.harness.roles import set_role
from tests.harness.server import Homeserver

# Role `shared` in tests/harness/policy.yaml: 3 messages at once, then one per 100 s, so no
# refill comes during a test however slow the machine: a message that passes once the bucket
# is empty passed because of the override.
BURST = 3
MANY = 8


def override_path(user_id: str) -> str:
    return f"/_synapse/admin/v1/users/{quote(user_id, safe='')}/override_ratelimit"


async def set_override(server: Homeserver, user_id: str, per_second: int, burst: int) -> None:
    reply = await call(server, "POST", override_path(user_id),
                       {"messages_per_second": per_second, "burst_count": burst},
                       token=server.admin["access_token"])
    assert reply.status == 200, reply


async def remove_override(server: Homeserver, user_id: str) -> None:
    reply = await call(server, "DELETE", override_path(user_id),
                       token=server.admin["access_token"])
    assert reply.status == 200, reply


async def send(server: Homeserver, user: User, room_id: str) -> Reply:
    path = f"{CLIENT_V3}/rooms/{seg(room_id)}/send/m.room.message/{uuid.uuid4().hex}"
    return await call(server, "PUT", path, {"msgtype": "m.text", "body": "hi"},
                      token=str(user.client.api.token))


async def exhausted_sender(clients: ClientFactory) -> tuple[User, str]:
    """A `shared` user who has sent the burst and been refused once (429)."""
    user = await clients.user("override")
    await set_role(clients.server, user.user_id, "shared")
    room_id = await user.client.create_room()
    statuses = [(await send(clients.server, user, room_id)).status for _ in range(BURST + 1)]
    assert statuses == [200] * BURST + [429], statuses
    return user, room_id


async def test_override_zero_exempts_from_role_limit_and_removal_limits_again(
    clients: ClientFactory,
) -> None:
    """Override 0: messages pass with the bucket empty; removed: the next one is 429 again."""
    server = clients.server
    user, room_id = await exhausted_sender(clients)
    await set_override(server, user.user_id, 0, 0)
    statuses = [(await send(server, user, room_id)).status for _ in range(MANY)]
    assert statuses == [200] * MANY, statuses
    await remove_override(server, user.user_id)
    refused = await send(server, user, room_id)
    assert (refused.status, refused.errcode) == (429, "M_LIMIT_EXCEEDED"), refused
    assert "(limit: messages)" in refused.body["error"], refused


async def test_override_values_replace_the_role_limit(clients: ClientFactory) -> None:
    """A non-zero override replaces the role's message limit; removed, the role's is back."""
    server = clients.server
    user, room_id = await exhausted_sender(clients)
    await set_override(server, user.user_id, 1000, 1000)
    statuses = [(await send(server, user, room_id)).status for _ in range(MANY)]
    assert statuses == [200] * MANY, statuses
    await remove_override(server, user.user_id)
    statuses = [(await send(server, user, room_id)).status for _ in range(BURST + 1)]
    assert statuses[-1] == 429, statuses
