"""Throughput: many users send as fast as they can into several rooms for a fixed time."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from bench.matrix import Endpoint, MatrixError, Seat
from bench.options import Options
from bench.scenarios.base import Metric, Sample, Scenario, latency_metrics, rate
from bench.scenarios.registry import register

FAILURE_PAUSE_S = 0.05


async def _send_until(seat: Seat, deadline: float, sample: Sample) -> None:
    """Send back to back until ``deadline``; only sends finished by then are counted."""
    index = 0
    while time.perf_counter() < deadline:
        index += 1
        started = time.perf_counter()
        try:
            await seat.client.send_text(seat.room_id, f"throughput {index}")
        except (TimeoutError, MatrixError, aiohttp.ClientError):
            if time.perf_counter() <= deadline:
                sample.failed += 1
            await asyncio.sleep(FAILURE_PAUSE_S)
            continue
        finished = time.perf_counter()
        if finished <= deadline:
            sample.ok += 1
            sample.latencies_ms.append((finished - started) * 1000)


@register
class Throughput(Scenario[list[Seat]]):
    """Concurrent senders, spread round-robin over the rooms."""

    name = "throughput"

    async def prepare(self, endpoint: Endpoint, options: Options) -> list[Seat]:
        clients = await endpoint.register_many("load", options.senders)
        owners = clients[: options.rooms]
        rooms = list(await asyncio.gather(*(c.create_room() for c in owners)))
        seats = [Seat(c, rooms[i % len(rooms)]) for i, c in enumerate(clients)]
        gate = asyncio.Semaphore(8)

        async def join(seat: Seat) -> None:
            async with gate:
                await seat.client.join(seat.room_id)

        await asyncio.gather(*(join(s) for s in seats[len(owners):]))
        await asyncio.gather(*(s.client.send_text(s.room_id, "warm-up") for s in seats))
        return seats

    async def measure(self, fixture: list[Seat], options: Options, round_index: int) -> Sample:
        seconds = options.duration_s / options.rounds
        sample = Sample(seconds=seconds)
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(_send_until(seat, deadline, sample) for seat in fixture))
        return sample

    def summarize(self, sample: Sample) -> list[Metric]:
        return [
            Metric("messages/s", rate(sample.ok, sample.seconds), "higher"),
            *latency_metrics(sample, "send"),
            Metric("failed sends", float(sample.failed), "lower", decimals=0),
        ]

    def describe(self, options: Options) -> str:
        return (f"{options.senders} users send back to back into {options.rooms} rooms for "
                f"{options.duration_s:g} s; messages/s counts sends answered 200 in that time")
