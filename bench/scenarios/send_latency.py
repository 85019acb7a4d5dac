"""Send latency: one user sends messages one after another; time of each PUT /send."""

from __future__ import annotations

import time

from bench.matrix import Endpoint, Seat
from bench.options import Options
from bench.scenarios.base import SequentialLatency
from bench.scenarios.registry import register


@register
class SendLatency(SequentialLatency[Seat]):
    """Sequential sends by one user into one room."""

    name = "send_latency"

    async def setup(self, endpoint: Endpoint) -> Seat:
        client = await endpoint.register("sender")
        return Seat(client, await client.create_room())

    async def timed(self, fixture: Seat, count: int) -> list[float]:
        """Each send's round trip."""
        latencies: list[float] = []
        for index in range(count):
            started = time.perf_counter()
            await fixture.client.send_text(fixture.room_id, f"send latency {index}")
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies

    def describe(self, options: Options) -> str:
        return (f"one user sends {options.messages} messages one after another "
                f"(after {options.warmup} warm-up); time of each `PUT /send`")
