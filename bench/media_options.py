"""Sizes of a media run (``--suite media``) and the command-line options that set them.

``MediaOptions`` is an ``Options`` (the scenario interface takes one) with media sizes of its
own; the core sizes it inherits but does not use (messages, senders, rooms) are left out of
its command line.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

from bench.options import Options


@dataclass(frozen=True)
class MediaOptions(Options):
    """Counts are totals per server, split over ``rounds`` alternating rounds."""

    SUITE: ClassVar[tuple[str, ...]] = ("--suite", "media")
    FLAGS: ClassVar[dict[str, str]] = {
        "database": "--database", "warmup": "--warmup", "rounds": "--rounds",
        "uploads": "--uploads", "downloads": "--downloads", "users": "--users",
        "duration_s": "--duration", "large_images": "--large-images", "videos": "--videos",
        "video_mb": "--video-mb", "dedup_uploads": "--dedup-uploads",
        "dedup_files": "--dedup-files", "edge_files": "--edge-files",
        "edge_downloads": "--edge-downloads",
    }

    warmup: int = 5
    rounds: int = 2
    duration_s: float = 20.0
    uploads: int = 100  # sequential 100 KB uploads
    downloads: int = 200  # per download scenario
    users: int = 20  # concurrent uploaders
    large_images: int = 4  # 12 MP uploads per EXIF orientation
    videos: int = 2
    video_mb: int = 100
    dedup_uploads: int = 100
    dedup_files: int = 20  # distinct contents among the dedup uploads
    edge_files: int = 20
    edge_downloads: int = 200

    def quick(self) -> MediaOptions:
        """Small numbers for a smoke run."""
        return replace(self, warmup=2, uploads=20, downloads=20, users=5, duration_s=4.0,
                       large_images=2, videos=2, video_mb=20, dedup_uploads=20,
                       dedup_files=5, edge_files=5, edge_downloads=20)


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


# (flag, type, meaning, field) of the sizes only this suite has.
_SIZES: tuple[tuple[str, Callable[[str], float], str, str], ...] = (
    ("--uploads", _count, "sequential 100 KB uploads (upload latency)", "uploads"),
    ("--downloads", _count, "downloads per download scenario", "downloads"),
    ("--users", _count, "concurrent uploaders (upload throughput)", "users"),
    ("--large-images", _count, "12 MP JPEG uploads per EXIF orientation", "large_images"),
    ("--videos", _count, "video uploads", "videos"),
    ("--video-mb", _count, "size of the video in MB", "video_mb"),
    ("--dedup-uploads", _count, "uploads of the dedup scenario", "dedup_uploads"),
    ("--dedup-files", _count, "distinct files among them", "dedup_files"),
    ("--edge-files", _count, "distinct files downloaded through the edge", "edge_files"),
    ("--edge-downloads", _count, "downloads through the edge", "edge_downloads"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The media suite's own options (``--duration``, ``--warmup``, ``--rounds`` and
    ``--database`` are shared with the core suite)."""
    defaults = MediaOptions()
    group = parser.add_argument_group("media suite (--suite media)")
    for flag, kind, meaning, name in _SIZES:
        group.add_argument(flag, type=kind, default=None,
                           help=f"{meaning} (default {getattr(defaults, name):g})")


def options_from(args: argparse.Namespace) -> MediaOptions:
    """Defaults, then --quick, then whatever was given explicitly."""
    options = MediaOptions().quick() if args.quick else MediaOptions()
    given = {"database": args.database, "warmup": args.warmup, "rounds": args.rounds,
             "duration_s": args.duration}
    given |= {name: getattr(args, name) for _, _, _, name in _SIZES}
    options = replace(options, **{k: v for k, v in given.items() if v is not None})
    return replace(options, scenarios=tuple(dict.fromkeys(args.scenarios)))
