"""Send latency: one user sends messages one after another; time of each PUT /send."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.matrix import Client, Endpoint
from bench.options import Options
from bench.scenarios.base import Metric, Sample, Scenario, latency_metrics
from bench.scenarios.registry import register
from bench.stats import split


@dataclass(frozen=True)
class Fixture:
    """The sender and its room."""

    client: Client
    room_id: str


async def timed_sends(client: Client, room_id: str, count: int) -> list[float]:
    """Send ``count`` messages sequentially; each one's round trip in ms."""
    latencies: list[float] = []
    for index in range(count):
        started = time.perf_counter()
        await client.send_text(room_id, f"send latency {index}")
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


@register
class SendLatency(Scenario[Fixture]):
    """Sequential sends by one user into one room."""

    name = "send_latency"
    title = "send latency"

    async def prepare(self, endpoint: Endpoint, options: Options) -> Fixture:
        client = await endpoint.register("sender")
        room_id = await client.create_room()
        await timed_sends(client, room_id, options.warmup)
        return Fixture(client, room_id)

    async def measure(self, fixture: Fixture, options: Options, round_index: int) -> Sample:
        count = split(options.messages, options.rounds, round_index)
        latencies = await timed_sends(fixture.client, fixture.room_id, count)
        return Sample(latencies_ms=latencies, ok=len(latencies))

    def summarize(self, sample: Sample) -> list[Metric]:
        return latency_metrics(sample)

    def describe(self, options: Options) -> str:
        return (f"one user sends {options.messages} messages one after another "
                f"(after {options.warmup} warm-up); time of each `PUT /send`")
