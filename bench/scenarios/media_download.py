"""Downloads of a 100 KB JPEG on ``/_matrix/client/v1/media/download``: streamed by the
homeserver, answered with a ``307`` (``allow_redirect=true``), the redirect followed to the
object store or the media edge; and the edge's cache under repeated downloads."""

from __future__ import annotations

from dataclasses import dataclass

from bench.matrix import Client
from bench.media_client import MediaEndpoint, download, download_followed, upload
from bench.media_options import MediaOptions
from bench.media_samples import small_images
from bench.scenarios.base import Metric
from bench.scenarios.media_base import (
    OURS_EDGE,
    OURS_S3,
    UPLOADERS,
    MediaSample,
    MediaScenario,
    spread,
)
from bench.scenarios.registry import register_in
from bench.stats import split

JPEG = "image/jpeg"


@dataclass(frozen=True)
class Stored:
    """A user and one file they uploaded."""

    client: Client
    media: str


async def _stored(endpoint: MediaEndpoint) -> Stored:
    client = await endpoint.register("downloader")
    return Stored(client, await upload(client, small_images().fresh(1)[0], JPEG))


def _check(stored: Stored, size: int, status: int, expected: int) -> None:
    """The answer is the one expected (and a 200 has a body: our pipeline may rewrite a
    file's container, so its size need not be the uploaded one's)."""
    if status != expected or (expected == 200 and size == 0):
        raise RuntimeError(f"download of {stored.media}: status {status}, {size} bytes; "
                           f"expected {expected}")


@register_in("media")
class StreamedDownload(MediaScenario[Stored]):
    """The file streamed by the homeserver (no redirect asked for)."""

    name = "media_download_stream"
    servers = UPLOADERS

    async def prepare_media(self, endpoint: MediaEndpoint, options: MediaOptions) -> Stored:
        stored = await _stored(endpoint)
        for _ in range(options.warmup):
            await download(stored.client, stored.media, redirect=False)
        return stored

    async def measure_media(self, fixture: Stored, options: MediaOptions,
                            round_index: int) -> MediaSample:
        sample = MediaSample()
        for _ in range(split(options.downloads, options.rounds, round_index)):
            fetched = await download(fixture.client, fixture.media, redirect=False)
            _check(fixture, fetched.size, fetched.status, 200)
            sample.latencies_ms.append(fetched.first_ms)
            sample.record("complete_ms", fetched.complete_ms)
            sample.ok += 1
        return sample

    def summarize_media(self, sample: MediaSample) -> list[Metric]:
        return [*spread(sample.latencies_ms, "first byte"),
                *spread(sample.values("complete_ms"), "complete")]

    def describe_media(self, options: MediaOptions) -> str:
        return (f"{options.downloads} downloads one after another of one ~100 KB JPEG (after "
                f"{options.warmup} warm-up), streamed by the homeserver; first byte is the "
                f"time to the response's headers, complete to its last byte")


@register_in("media")
class RedirectDownload(MediaScenario[Stored]):
    """``allow_redirect=true``: the time to the homeserver's ``307``."""

    name = "media_download_redirect"
    servers = (OURS_S3, OURS_EDGE)

    async def prepare_media(self, endpoint: MediaEndpoint, options: MediaOptions) -> Stored:
        stored = await _stored(endpoint)
        for _ in range(options.warmup):
            await download(stored.client, stored.media, redirect=True)
        return stored

    async def measure_media(self, fixture: Stored, options: MediaOptions,
                            round_index: int) -> MediaSample:
        sample = MediaSample()
        for _ in range(split(options.downloads, options.rounds, round_index)):
            fetched = await download(fixture.client, fixture.media, redirect=True)
            _check(fixture, fetched.size, fetched.status, 307)
            sample.latencies_ms.append(fetched.first_ms)
            sample.ok += 1
        return sample

    def summarize_media(self, sample: MediaSample) -> list[Metric]:
        return spread(sample.latencies_ms, "307")

    def describe_media(self, options: MediaOptions) -> str:
        return (f"{options.downloads} downloads with `allow_redirect=true` (MSC3860) of a file "
                f"in object storage; time to the `307` (a presigned S3 URL, or the edge's "
                f"signed URL), not followed")


@register_in("media")
class FollowedRedirect(MediaScenario[Stored]):
    """The ``307`` followed: the object store (presigned URL) or the edge serves the bytes."""

    name = "media_download_followed"
    servers = (OURS_S3, OURS_EDGE)

    async def prepare_media(self, endpoint: MediaEndpoint, options: MediaOptions) -> Stored:
        stored = await _stored(endpoint)
        for _ in range(options.warmup):
            await download_followed(stored.client, stored.media)
        return stored

    async def measure_media(self, fixture: Stored, options: MediaOptions,
                            round_index: int) -> MediaSample:
        sample = MediaSample()
        for _ in range(split(options.downloads, options.rounds, round_index)):
            _, target = await download_followed(fixture.client, fixture.media)
            _check(fixture, target.size, target.status, 200)
            sample.latencies_ms.append(target.first_ms)
            sample.record("complete_ms", target.complete_ms)
            sample.ok += 1
        return sample

    def summarize_media(self, sample: MediaSample) -> list[Metric]:
        return [*spread(sample.latencies_ms, "first byte"),
                *spread(sample.values("complete_ms"), "complete")]

    def describe_media(self, options: MediaOptions) -> str:
        return (f"{options.downloads} downloads with `allow_redirect=true`, the `307` followed "
                f"as a client does: to the bucket (moto behind devtools/s3_server.py's "
                f"signature-checking Python front) or to the nginx edge (its cache warm after "
                f"the warm-up); times from the first request to the object's first and last "
                f"byte")


@dataclass(frozen=True)
class EdgeFiles:
    client: Client
    files: list[Stored]


@register_in("media")
class EdgeCache(MediaScenario[EdgeFiles]):
    """Repeated downloads of a set of files through the edge: its cache's hit ratio."""

    name = "media_edge_cache"
    servers = (OURS_EDGE,)

    async def prepare_media(self, endpoint: MediaEndpoint, options: MediaOptions) -> EdgeFiles:
        client = await endpoint.register("edgeuser")
        files = []
        for data in small_images().fresh(options.edge_files):
            files.append(Stored(client, await upload(client, data, JPEG)))
        return EdgeFiles(client, files)

    async def measure_media(self, fixture: EdgeFiles, options: MediaOptions,
                            round_index: int) -> MediaSample:
        sample = MediaSample()
        count = split(options.edge_downloads, options.rounds, round_index)
        done = sum(split(options.edge_downloads, options.rounds, r) for r in range(round_index))
        for index in range(done, done + count):
            stored = fixture.files[index % len(fixture.files)]
            _, target = await download_followed(fixture.client, stored.media)
            _check(stored, target.size, target.status, 200)
            status = target.headers.get("x-cache-status", "")
            sample.record("hit_ms" if status == "HIT" else "miss_ms", target.complete_ms)
            sample.record("hit", float(status == "HIT"))
            sample.ok += 1
        return sample

    def summarize_media(self, sample: MediaSample) -> list[Metric]:
        hits = sample.values("hit")
        ratio = 100 * sum(hits) / len(hits) if hits else float("nan")
        return [
            Metric("hit ratio (%)", ratio, "higher"),
            Metric("downloads", float(len(hits)), "higher", decimals=0),
            Metric("misses (fetched from the bucket)", float(len(hits) - sum(hits)), "lower",
                   decimals=0),
            *spread(sample.values("hit_ms"), "hit, complete"),
            *spread(sample.values("miss_ms"), "miss, complete"),
        ]

    def describe_media(self, options: MediaOptions) -> str:
        ideal = 100 * (1 - min(options.edge_files, options.edge_downloads)
                       / options.edge_downloads)
        return (f"{options.edge_downloads} downloads with `allow_redirect=true` cycling over "
                f"{options.edge_files} distinct ~100 KB JPEGs, each `307` (a new signed URL "
                f"every time) followed to the nginx media edge "
                f"(deploy/templates/media-edge.conf.j2 rendered by "
                f"`hearth.render.render_media_edge_config`); hit or miss from its "
                f"`X-Cache-Status`; {ideal:.0f}% is the most possible (each file missed once)")
