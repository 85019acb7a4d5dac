"""Delivery latency: from just before a send until the other user's long-poll /sync has it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field

from bench.matrix import Client, Endpoint
from bench.options import Options
from bench.scenarios.base import SequentialLatency
from bench.scenarios.registry import register

SYNC_TIMEOUT_MS = 30_000
DELIVERY_TIMEOUT_S = 30.0


def sync_filter(room_id: str) -> str:
    """The room's timeline only, as a lean client would ask (no presence, no receipts)."""
    return json.dumps({
        "presence": {"types": []},
        "account_data": {"types": []},
        "room": {
            "rooms": [room_id],
            "state": {"lazy_load_members": True},
            "ephemeral": {"types": []},
            "account_data": {"types": []},
        },
    })


@dataclass
class TimelineWatcher:
    """Long-polls /sync for one room and resolves a future per expected message body."""

    client: Client
    room_id: str
    since: str | None = None
    expected: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    error: BaseException | None = None

    async def prime(self) -> None:
        """Skip everything before now."""
        response = await self.client.sync(None, 0, sync_filter(self.room_id))
        self.since = str(response["next_batch"])

    def expect(self, body: str) -> asyncio.Future[float]:
        """A future that resolves to the perf_counter time the body arrived."""
        if self.error is not None:
            raise RuntimeError(f"/sync failed: {self.error}")
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.expected[body] = future
        return future

    async def run(self) -> None:
        """Sync until cancelled; an error fails every waiting future."""
        filter_json = sync_filter(self.room_id)
        try:
            while True:
                response = await self.client.sync(self.since, SYNC_TIMEOUT_MS, filter_json)
                arrived = time.perf_counter()
                self.since = str(response["next_batch"])
                room = response.get("rooms", {}).get("join", {}).get(self.room_id, {})
                for event in room.get("timeline", {}).get("events", []):
                    future = self.expected.pop(str(event.get("content", {}).get("body")), None)
                    if future is not None and not future.done():
                        future.set_result(arrived)
        except Exception as exc:
            self.error = exc
            for future in self.expected.values():
                if not future.done():
                    future.set_exception(exc)


@dataclass(frozen=True)
class Fixture:
    """A sender and a receiver in one room."""

    sender: Client
    receiver: Client
    room_id: str


@register
class DeliveryLatency(SequentialLatency[Fixture]):
    """Sequential messages, each timed until the receiver's /sync returns it."""

    name = "delivery_latency"

    async def setup(self, endpoint: Endpoint) -> Fixture:
        sender, receiver = await endpoint.register_many("deliver", 2)
        room_id = await sender.create_room()
        await receiver.join(room_id)
        return Fixture(sender, receiver, room_id)

    async def timed(self, fixture: Fixture, count: int) -> list[float]:
        """Each message after the previous one arrived, from just before its send."""
        watcher = TimelineWatcher(fixture.receiver, fixture.room_id)
        await watcher.prime()
        task = asyncio.create_task(watcher.run())
        tag = secrets.token_hex(4)
        latencies: list[float] = []
        try:
            for index in range(count):
                body = f"delivery {tag} {index}"
                arrival = watcher.expect(body)
                started = time.perf_counter()
                await fixture.sender.send_text(fixture.room_id, body)
                arrived = await asyncio.wait_for(arrival, DELIVERY_TIMEOUT_S)
                latencies.append((arrived - started) * 1000)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return latencies

    def describe(self, options: Options) -> str:
        return (f"{options.messages} messages one at a time (after {options.warmup} warm-up); "
                f"time from just before `PUT /send` until the other user's long-poll `/sync` "
                f"(timeout {SYNC_TIMEOUT_MS // 1000} s) returns it")
