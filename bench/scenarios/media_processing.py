"""Large uploads: a 12 MP camera JPEG with EXIF and GPS (both EXIF orientations that take
different paths through our pipeline) and a ~100 MB H.264 video. The round trip on every
server; on ours also the pipeline's own time, from its ``hearth_media_processing_seconds``
histogram (uploads are sequential, so each upload adds exactly one observation)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from bench.matrix import Client
from bench.media_client import MediaEndpoint, processing_total, upload
from bench.media_options import MediaOptions
from bench.media_samples import camera_jpeg, video
from bench.scenarios.base import Metric
from bench.scenarios.media_base import MediaSample, MediaScenario, median_max
from bench.scenarios.registry import register_in
from bench.stats import split

# Orientation 1: EXIF removed by rewriting the container; 6: the pixels are turned upright
# and re-encoded (docs/media.md, "Processing").
ORIENTATIONS = (1, 6)
WARMUP_VARIANT = 0xFFFF
GOAL_IMAGE_S = 1.0
GOAL_VIDEO_S = 5.0


@dataclass(frozen=True)
class Uploader:
    client: Client
    endpoint: MediaEndpoint


async def _timed_upload(uploader: Uploader, data: bytes, content_type: str, kind: str,
                        sample: MediaSample, label: str) -> None:
    """One upload: its round trip, and the pipeline's processing time where it is measured."""
    endpoint = uploader.endpoint
    before = await processing_total(endpoint, kind) if endpoint.metrics_url else None
    started = time.perf_counter()
    await upload(uploader.client, data, content_type)
    sample.record(f"{label}_ms", (time.perf_counter() - started) * 1000)
    sample.ok += 1
    if before is not None:
        after = await processing_total(endpoint, kind)
        observations = after[1] - before[1]
        seconds = (after[0] - before[0]) if observations == 1 else math.nan
        sample.record(f"{label}_processing_ms", seconds * 1000)


def _rows(sample: MediaSample, label: str, title: str) -> list[Metric]:
    rows = median_max(sample.values(f"{label}_ms"), f"{title} round trip")
    processing = sample.values(f"{label}_processing_ms")
    if processing:
        rows += median_max(processing, f"{title} processing")
    return rows


def _already(options: MediaOptions, count: int, round_index: int) -> range:
    """The variants of this round: ``count`` split over the rounds, continuing."""
    start = sum(split(count, options.rounds, r) for r in range(round_index))
    return range(start, start + split(count, options.rounds, round_index))


@register_in("media")
class LargeImage(MediaScenario[Uploader]):
    """12 MP JPEG uploads, one at a time."""

    name = "media_large_image"

    async def prepare_media(self, endpoint: MediaEndpoint, options: MediaOptions) -> Uploader:
        uploader = Uploader(await endpoint.register("photographer"), endpoint)
        for orientation in ORIENTATIONS:
            for variant in range(options.large_images):
                camera_jpeg(orientation, variant)  # made now, outside the timed rounds
        await upload(uploader.client, camera_jpeg(1, WARMUP_VARIANT), "image/jpeg")
        return uploader

    async def measure_media(self, fixture: Uploader, options: MediaOptions,
                            round_index: int) -> MediaSample:
        sample = MediaSample()
        for variant in _already(options, options.large_images, round_index):
            for orientation in ORIENTATIONS:
                await _timed_upload(fixture, camera_jpeg(orientation, variant), "image/jpeg",
                                    "image", sample, f"o{orientation}")
        return sample

    def summarize_media(self, sample: MediaSample) -> list[Metric]:
        return [*_rows(sample, "o1", "orientation 1"), *_rows(sample, "o6", "orientation 6")]

    def describe_media(self, options: MediaOptions) -> str:
        return (f"{options.large_images} distinct 12 MP (4000x3000, ~3.3 MB) quality-90 JPEGs "
                f"per EXIF orientation, with make, model, date and GPS, uploaded one at a time "
                f"(after one warm-up); round trip to the 200 (Synapse's thumbnails included), "
                f"processing from `hearth_media_processing_seconds` (ours only: type check, "
                f"full decode, metadata removed losslessly for orientation 1, turned and "
                f"re-encoded for 6, blurhash). Goal: processing ≤ {GOAL_IMAGE_S:g} s")


@register_in("media")
class Video(MediaScenario[Uploader]):
    """~100 MB MP4 uploads, one at a time."""

    name = "media_video"

    async def prepare_media(self, endpoint: MediaEndpoint, options: MediaOptions) -> Uploader:
        for variant in range(options.videos):
            video(endpoint.files_dir, options.video_mb, variant)  # made once for the run
        return Uploader(await endpoint.register("filmmaker"), endpoint)

    async def measure_media(self, fixture: Uploader, options: MediaOptions,
                            round_index: int) -> MediaSample:
        sample = MediaSample()
        for variant in _already(options, options.videos, round_index):
            data = video(fixture.endpoint.files_dir, options.video_mb, variant).read_bytes()
            await _timed_upload(fixture, data, "video/mp4", "video", sample, "video")
        return sample

    def summarize_media(self, sample: MediaSample) -> list[Metric]:
        return _rows(sample, "video", "video")

    def describe_media(self, options: MediaOptions) -> str:
        return (f"{options.videos} uploads, one at a time, of a {options.video_mb} MB H.264 "
                f"MP4 (ffmpeg `testsrc2`, 1280x720, lossless, so large; each upload distinct "
                f"bytes); round trip to the 200, processing from "
                f"`hearth_media_processing_seconds` (ours only: ffprobe allow-list checks and "
                f"a poster frame; vanilla stores it unprocessed). Goal: processing ≤ "
                f"{GOAL_VIDEO_S:g} s")
