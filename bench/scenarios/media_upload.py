"""Uploads of 100 KB JPEGs: one user one after another (latency), and many users back to back
for a fixed time (uploads/s, per core, and the server's CPU)."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

import aiohttp

from bench.matrix import Client, MatrixError
from bench.media_client import CpuMeter, MediaEndpoint, upload
from bench.media_options import MediaOptions
from bench.media_samples import small_images
from bench.scenarios.base import Metric, rate
from bench.scenarios.media_base import MediaSample, MediaScenario, spread
from bench.scenarios.registry import register_in
from bench.stats import split

JPEG = "image/jpeg"
FAILURE_PAUSE_S = 0.05
# Distinct files made ready per second of load; past them the files repeat (counted).
POOL_PER_SECOND = 50


@register_in("media")
class UploadLatency(MediaScenario[Client]):
    """Sequential uploads by one user, each a new file."""

    name = "media_upload_latency"

    async def prepare_media(self, endpoint: MediaEndpoint, options: MediaOptions) -> Client:
        client = await endpoint.register("uploader")
        for data in small_images().fresh(options.warmup):
            await upload(client, data, JPEG)
        return client

    async def measure_media(self, fixture: Client, options: MediaOptions,
                            round_index: int) -> MediaSample:
        files = small_images().fresh(split(options.uploads, options.rounds, round_index))
        sample = MediaSample()
        for data in files:
            started = time.perf_counter()
            await upload(fixture, data, JPEG)
            sample.latencies_ms.append((time.perf_counter() - started) * 1000)
            sample.ok += 1
        return sample

    def summarize_media(self, sample: MediaSample) -> list[Metric]:
        return spread(sample.latencies_ms, "upload", quantiles=(50, 95, 99))

    def describe_media(self, options: MediaOptions) -> str:
        return (f"one user uploads {options.uploads} distinct ~100 KB 800x600 JPEGs one after "
                f"another (after {options.warmup} warm-up); time to the 200 of "
                f"`POST /_matrix/media/v3/upload`")


@dataclass(frozen=True)
class Uploaders:
    clients: list[Client]
    endpoint: MediaEndpoint


@dataclass
class _Pool:
    """The files of one round, handed out in turn; past the end they repeat."""

    files: list[bytes]
    taken: int = 0

    def next(self) -> tuple[bytes, bool]:
        index, self.taken = self.taken, self.taken + 1
        return self.files[index % len(self.files)], index >= len(self.files)


async def _upload_until(client: Client, pool: _Pool, deadline: float,
                        sample: MediaSample) -> None:
    """Upload back to back until ``deadline``; only uploads finished by then count."""
    while time.perf_counter() < deadline:
        data, repeated = pool.next()
        started = time.perf_counter()
        try:
            await upload(client, data, JPEG)
        except (TimeoutError, MatrixError, aiohttp.ClientError):
            if time.perf_counter() <= deadline:
                sample.failed += 1
            await asyncio.sleep(FAILURE_PAUSE_S)
            continue
        finished = time.perf_counter()
        if finished <= deadline:
            sample.ok += 1
            sample.latencies_ms.append((finished - started) * 1000)
            sample.record("repeated", float(repeated))
        else:  # its work is in the CPU measured until the last upload is answered
            sample.record("late", 1.0)


@register_in("media")
class UploadThroughput(MediaScenario[Uploaders]):
    """Concurrent uploaders for a fixed time; the server's CPU over the same time."""

    name = "media_upload_throughput"

    async def prepare_media(self, endpoint: MediaEndpoint, options: MediaOptions) -> Uploaders:
        clients = await endpoint.register_many("mediaload", options.users)
        warm = small_images().fresh(len(clients))
        await asyncio.gather(*(upload(c, d, JPEG) for c, d in zip(clients, warm, strict=True)))
        return Uploaders(clients, endpoint)

    async def measure_media(self, fixture: Uploaders, options: MediaOptions,
                            round_index: int) -> MediaSample:
        seconds = options.duration_s / options.rounds
        pool = _Pool(small_images().fresh(int(seconds * POOL_PER_SECOND)))
        sample = MediaSample(seconds=seconds)
        server = CpuMeter(fixture.endpoint.server_roots)
        store = CpuMeter(fixture.endpoint.store_roots)
        server.start()
        store.start()
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(_upload_until(c, pool, deadline, sample)
                               for c in fixture.clients))
        sample.record("server_cpu_s", server.stop())
        sample.record("store_cpu_s", store.stop())
        sample.record("cpu_window_s", time.perf_counter() - started)
        return sample

    def summarize_media(self, sample: MediaSample) -> list[Metric]:
        per_s = rate(sample.ok, sample.seconds)
        # CPU is measured until the last upload in flight at the deadline is answered: the
        # uploads answered in that window are what it paid for.
        server_cpu, window = sample.total("server_cpu_s"), sample.total("cpu_window_s")
        answered = sample.ok + int(sample.total("late"))
        cpus = len(os.sched_getaffinity(0))
        rows = [
            Metric("uploads/s", per_s, "higher"),
            Metric(f"uploads/s per core (÷ {cpus} CPUs)", per_s / cpus, "higher"),
            Metric("server CPU (% of one core)", 100 * rate(1, window) * server_cpu, "lower",
                   decimals=0),
            Metric("uploads per server CPU-second", rate(answered, server_cpu), "higher"),
            *spread(sample.latencies_ms, "upload"),
            Metric("failed uploads", float(sample.failed), "lower", decimals=0),
            Metric("uploads repeating an earlier file", sample.total("repeated"), "lower",
                   decimals=0),
        ]
        store_cpu = sample.total("store_cpu_s")
        if store_cpu > 0:
            rows.append(Metric("S3 stand-in CPU (% of one core)",
                               100 * rate(1, window) * store_cpu, "lower", decimals=0))
        return rows

    def describe_media(self, options: MediaOptions) -> str:
        return (f"{options.users} users upload distinct ~100 KB JPEGs back to back for "
                f"{options.duration_s:g} s in all (split over the rounds); uploads/s counts "
                f"uploads answered 200 in that time; "
                f"per core is that divided by the machine's CPUs (load generator included); "
                f"server CPU is the Synapse process tree's (with our sandboxed image workers) "
                f"from /proc, from the start until the last upload in flight is answered, and "
                f"uploads per server CPU-second the uploads answered in that time per CPU-second "
                f"it used: what one core of the server serves")
