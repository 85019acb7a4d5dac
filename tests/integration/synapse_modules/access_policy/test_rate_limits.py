"""Per-role rate limits: 429 M_LIMIT_EXCEEDED with retry_after_ms, then recovery after waiting."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import httpx
from mautrix.types import RoomCreatePreset

from tests.harness.accounts import CLIENT_V3, Reply, call
from tests.harness.calls import seg
from tests.harness.clients import ClientFactory, User
from tests.harness.roles import metric_value, set_role

# Role `limited` in tests/harness/policy.yaml: every limiter at 2 per second with bursts of 2
# (messages 3). Synapse's own limiters are far above that on the test server. Raw HTTP here:
# mautrix does not keep retry_after_ms.


async def limited_user(clients: ClientFactory) -> User:
    user = await clients.user("limited")
    await set_role(clients.server, user.user_id, "limited")
    return user


def token(user: User) -> str:
    return str(user.client.api.token)


async def hit_limit_then_recover(
    clients: ClientFactory, limiter: str, burst: int, action: Callable[[int], Awaitable[Reply]],
) -> None:
    """``burst`` actions pass, the next is 429 naming the limiter, after the wait one passes."""
    metrics = clients.server.metrics_url
    before = metric_value(metrics, "hearth_policy_rate_limited_total", limiter=limiter)
    for index in range(burst):
        reply = await action(index)
        assert reply.status == 200, reply
    limited = await action(burst)
    assert (limited.status, limited.errcode) == (429, "M_LIMIT_EXCEEDED"), limited
    retry_after_ms = limited.body.get("retry_after_ms")
    assert isinstance(retry_after_ms, int) and 0 < retry_after_ms <= 500, limited
    assert f"(limit: {limiter})" in limited.body["error"], limited
    await asyncio.sleep(retry_after_ms / 1000 + 0.05)
    recovered = await action(burst + 1)
    assert recovered.status == 200, recovered
    assert metric_value(metrics, "hearth_policy_rate_limited_total",
                        limiter=limiter) == before + 1


async def test_messages_limit_429_then_recovers(clients: ClientFactory) -> None:
    """Three messages at once, the fourth is refused 429, and sent after retry_after_ms."""
    user = await limited_user(clients)
    room_id = await user.client.create_room()

    async def send(index: int) -> Reply:
        path = f"{CLIENT_V3}/rooms/{seg(room_id)}/send/m.room.message/{uuid.uuid4().hex}"
        return await call(clients.server, "PUT", path, {"msgtype": "m.text", "body": f"{index}"},
                          token=token(user))

    await hit_limit_then_recover(clients, "messages", 3, send)


async def test_joins_limit_429_then_recovers(clients: ClientFactory) -> None:
    """Two joins at once, the third is refused 429, and allowed after the wait."""
    owner = await clients.user("owner")
    rooms = [await owner.client.create_room(preset=RoomCreatePreset.PUBLIC) for _ in range(4)]
    user = await limited_user(clients)

    async def join(index: int) -> Reply:
        return await call(clients.server, "POST", f"{CLIENT_V3}/join/{seg(rooms[index])}", {},
                          token=token(user))

    await hit_limit_then_recover(clients, "joins", 2, join)


async def test_invites_limit_429_then_recovers(clients: ClientFactory) -> None:
    """Two invites at once, the third is refused 429, and allowed after the wait."""
    user = await limited_user(clients)
    room_id = await user.client.create_room()
    invitees = [await clients.user("invitee") for _ in range(4)]

    async def invite(index: int) -> Reply:
        return await call(clients.server, "POST", f"{CLIENT_V3}/rooms/{seg(room_id)}/invite",
                          {"user_id": invitees[index].user_id}, token=token(user))

    await hit_limit_then_recover(clients, "invites", 2, invite)


async def test_media_uploads_limit_429_then_recovers(clients: ClientFactory) -> None:
    """Two uploads at once, the third is refused 429, and accepted after the wait."""
    user = await limited_user(clients)

    async def upload(index: int) -> Reply:
        async with httpx.AsyncClient(base_url=clients.server.base_url, timeout=30) as http:
            response = await http.post(
                "/_matrix/media/v3/upload", content=f"file {index}".encode(),
                headers={"Authorization": f"Bearer {token(user)}",
                         "Content-Type": "text/plain"})
        return Reply(response.status_code, response.json())

    await hit_limit_then_recover(clients, "media_uploads", 2, upload)
