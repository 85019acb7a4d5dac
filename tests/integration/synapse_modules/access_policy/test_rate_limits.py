"""Per-role rate limits: 429 M_LIMIT_EXCEEDED with retry_after_ms, then recovery after waiting."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
import yaml
from mautrix.types import RoomCreatePreset

from tests.harness.accounts import CLIENT_V3, Reply, call
from tests.harness.calls import seg
from tests.harness.clients import ClientFactory, User
from tests.harness.roles import metric_value, set_role
from tests.harness.server import POLICY_FILE

# Role `limited` in tests/harness/policy.yaml: small bursts refilled one per 2 s. Synapse's
# own limiters are far above that on the test server. Raw HTTP here: mautrix does not keep
# retry_after_ms.
LIMITS: dict[str, dict[str, float]] = yaml.safe_load(POLICY_FILE.read_text())["roles"][
    "limited"]["rate_limits"]
SPARE = 3  # attempts beyond the burst, for tokens refilled while a slow machine sends it


async def limited_user(clients: ClientFactory) -> User:
    user = await clients.user("limited")
    await set_role(clients.server, user.user_id, "limited")
    return user


def token(user: User) -> str:
    return str(user.client.api.token)


async def hit_limit_then_recover(
    clients: ClientFactory, limiter: str, action: Callable[[int], Awaitable[Reply]],
) -> None:
    """The burst passes; going on, an action is refused 429 naming the limiter, with no more
    passed than the burst plus what refilled meanwhile; after retry_after_ms one passes.

    Counts, not a time window: however slow the machine, the refill over the measured time
    bounds how many may pass."""
    burst, per_second = int(LIMITS[limiter]["burst"]), LIMITS[limiter]["per_second"]
    metrics = clients.server.metrics_url
    before = metric_value(metrics, "hearth_policy_rate_limited_total", limiter=limiter)
    started = time.monotonic()
    passed = 0
    while (limited := await action(passed)).status == 200:
        passed += 1
        assert passed <= burst + SPARE, f"{passed} actions passed the {limiter} limit"
    elapsed = time.monotonic() - started
    assert (limited.status, limited.errcode) == (429, "M_LIMIT_EXCEEDED"), limited
    assert burst <= passed <= burst + math.ceil(elapsed * per_second), (passed, elapsed)
    retry_after_ms = limited.body.get("retry_after_ms")
    assert isinstance(retry_after_ms, int) and 0 < retry_after_ms <= 1000 / per_second, limited
    assert f"(limit: {limiter})" in limited.body["error"], limited
    await asyncio.sleep(retry_after_ms / 1000)  # what the server asked the client to wait
    recovered = await action(passed + 1)
    assert recovered.status == 200, recovered
    assert metric_value(metrics, "hearth_policy_rate_limited_total",
                        limiter=limiter) == before + 1


def attempts(limiter: str) -> int:
    """How many distinct targets an action may need: the refused try, spares, the recovery."""
    return int(LIMITS[limiter]["burst"]) + SPARE + 2


async def test_messages_limit_429_then_recovers(clients: ClientFactory) -> None:
    """Past the burst of three messages one is refused 429, and sent after retry_after_ms."""
    user = await limited_user(clients)
    room_id = await user.client.create_room()

    async def send(index: int) -> Reply:
        path = f"{CLIENT_V3}/rooms/{seg(room_id)}/send/m.room.message/{uuid.uuid4().hex}"
        return await call(clients.server, "PUT", path, {"msgtype": "m.text", "body": f"{index}"},
                          token=token(user))

    await hit_limit_then_recover(clients, "messages", send)


async def test_joins_limit_429_then_recovers(clients: ClientFactory) -> None:
    """Past the burst of two joins one is refused 429, and allowed after the wait."""
    owner = await clients.user("owner")
    rooms = [await owner.client.create_room(preset=RoomCreatePreset.PUBLIC)
             for _ in range(attempts("joins"))]
    user = await limited_user(clients)

    async def join(index: int) -> Reply:
        return await call(clients.server, "POST", f"{CLIENT_V3}/join/{seg(rooms[index])}", {},
                          token=token(user))

    await hit_limit_then_recover(clients, "joins", join)


async def test_invites_limit_429_then_recovers(clients: ClientFactory) -> None:
    """Past the burst of two invites one is refused 429, and allowed after the wait."""
    user = await limited_user(clients)
    room_id = await user.client.create_room()
    invitees = [await clients.user("invitee") for _ in range(attempts("invites"))]

    async def invite(index: int) -> Reply:
        return await call(clients.server, "POST", f"{CLIENT_V3}/rooms/{seg(room_id)}/invite",
                          {"user_id": invitees[index].user_id}, token=token(user))

    await hit_limit_then_recover(clients, "invites", invite)


async def test_media_uploads_limit_429_then_recovers(clients: ClientFactory) -> None:
    """Past the burst of two uploads one is refused 429, and accepted after the wait."""
    user = await limited_user(clients)

    async def upload(index: int) -> Reply:
        async with httpx.AsyncClient(base_url=clients.server.base_url, timeout=30) as http:
            response = await http.post(
                "/_matrix/media/v3/upload", content=f"file {index}".encode(),
                headers={"Authorization": f"Bearer {token(user)}",
                         "Content-Type": "text/plain"})
        return Reply(response.status_code, response.json())

    await hit_limit_then_recover(clients, "media_uploads", upload)
