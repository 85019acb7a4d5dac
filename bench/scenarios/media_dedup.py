"""De-duplication: many uploads of a few distinct files; what Synapse wrote against what is
stored (vanilla's media store on disk; our bucket, listed with boto3)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bench.matrix import Client
from bench.media_client import MediaEndpoint, directory_bytes, upload
from bench.media_options import MediaOptions
from bench.media_samples import small_images
from bench.scenarios.base import Metric
from bench.scenarios.media_base import OURS_S3, VANILLA, MediaSample, MediaScenario
from bench.scenarios.registry import register_in
from bench.stats import split

MB = 1_000_000


@dataclass(frozen=True)
class Repeater:
    client: Client
    endpoint: MediaEndpoint
    files: list[bytes]


async def _stored_bytes(endpoint: MediaEndpoint) -> int:
    """Where the server keeps files: its bucket with object storage, else its media store."""
    if endpoint.bucket is not None:
        return await asyncio.to_thread(endpoint.bucket.stored_bytes)
    return directory_bytes(endpoint.media_store)


@register_in("media")
class Dedup(MediaScenario[Repeater]):
    """Uploads cycling over a few distinct files, one at a time."""

    name = "media_dedup"
    servers = (VANILLA, OURS_S3)

    async def prepare_media(self, endpoint: MediaEndpoint, options: MediaOptions) -> Repeater:
        client = await endpoint.register("repeater")
        return Repeater(client, endpoint, small_images().fresh(options.dedup_files))

    async def measure_media(self, fixture: Repeater, options: MediaOptions,
                            round_index: int) -> MediaSample:
        sample = MediaSample()
        start = sum(split(options.dedup_uploads, options.rounds, r) for r in range(round_index))
        count = split(options.dedup_uploads, options.rounds, round_index)
        written = directory_bytes(fixture.endpoint.media_store)
        stored = await _stored_bytes(fixture.endpoint)
        for index in range(start, start + count):
            data = fixture.files[index % len(fixture.files)]
            await upload(fixture.client, data, "image/jpeg")
            sample.record("sent", float(len(data)))
            sample.ok += 1
        sample.record("written", float(directory_bytes(fixture.endpoint.media_store) - written))
        sample.record("stored", float(await _stored_bytes(fixture.endpoint) - stored))
        return sample

    def summarize_media(self, sample: MediaSample) -> list[Metric]:
        written, stored = sample.total("written"), sample.total("stored")
        saving = 100 * (1 - stored / written) if written else float("nan")
        return [
            Metric("uploads", float(sample.ok), "higher", decimals=0),
            Metric("sent by clients (MB)", sample.total("sent") / MB, "lower", decimals=2),
            Metric("written by Synapse (MB)", written / MB, "lower", decimals=2),
            Metric("stored (MB)", stored / MB, "lower", decimals=2),
            Metric("saving (%)", saving, "higher"),
        ]

    def describe_media(self, options: MediaOptions) -> str:
        return (f"{options.dedup_uploads} uploads, one at a time, cycling over "
                f"{options.dedup_files} distinct ~100 KB JPEGs; written is what Synapse put in "
                f"its media store (originals and its thumbnails), stored what the server keeps: "
                f"vanilla the same files on disk, ours with object storage the growth of its "
                f"bucket (all objects listed with boto3; ours keeps the files in its local "
                f"cache too, bounded by `media.local_cache_max`); saving = 1 - stored/written")
