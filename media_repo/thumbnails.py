"""Thumbnails Synapse does not make: AVIF and WebP for clients that accept them, video posters.

Sizes are Synapse's (its default ``thumbnail_sizes``): a request is answered with the smallest
configured size of the same method that covers it, as Synapse selects among its own. Each
thumbnail is made once per (content hash, size, method, format, animated) in a separate,
limited process and kept in the derived-files directory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hearth.media_repo import image_processing
from hearth.media_repo.info_store import MediaInfo
from hearth.media_repo.sandbox import Limits
from hearth.media_repo.upload_front import poster_path
from hearth.synapse_compat.media_tables import LocalMedia

Method = Literal["crop", "scale"]
Format = Literal["jpeg", "png", "webp", "avif"]
MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}

# Synapse's default thumbnail_sizes (docs/usage/configuration/config_documentation.md).
SYNAPSE_SIZES: tuple[tuple[int, int, Method], ...] = (
    (32, 32, "crop"), (96, 96, "crop"), (320, 240, "scale"), (640, 480, "scale"),
    (800, 600, "scale"),
)


def preferred_format(accept: str | None) -> Format | None:
    """AVIF, then WebP, when the client's Accept header lists it (browsers' image requests)."""
    if not accept:
        return None
    listed = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    formats: tuple[Format, ...] = ("avif", "webp")
    for fmt in formats:
        if f"image/{fmt}" in listed:
            return fmt
    return None


@dataclass(frozen=True)
class ThumbnailRequest:
    width: int
    height: int
    method: Method
    animated: bool
    fmt: Format

    @staticmethod
    def from_args(width: str | None, height: str | None, method: str | None,
                  animated: bool, fmt: Format) -> ThumbnailRequest:
        """The configured size that answers the request (Synapse's selection)."""
        want_w = _positive(width, 32)
        want_h = _positive(height, 32)
        chosen: Method = "crop" if method == "crop" else "scale"
        same = [s for s in SYNAPSE_SIZES if s[2] == chosen]
        covering = [s for s in same if s[0] >= want_w and s[1] >= want_h]
        w, h, _ = min(covering, key=lambda s: s[0] * s[1]) if covering else same[-1]
        return ThumbnailRequest(w, h, chosen, animated, fmt)

    def file_name(self, sha256: str) -> str:
        flag = "-animated" if self.animated else ""
        return f"{sha256}-{self.width}x{self.height}-{self.method}{flag}.{self.fmt}"


def _positive(raw: str | None, default: int) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class Made:
    path: Path
    mime: str


# The local path of a media file, fetched from object storage first if needed.
LocalCopy = Callable[[str], AbstractAsyncContextManager[str]]
# ModuleApi.defer_to_thread: run a blocking function without blocking the reactor.
InThread = Callable[..., Awaitable[Any]]


class ThumbnailMaker:
    """Makes and keeps thumbnails; one maker per process."""

    def __init__(self, derived_dir: Path | None, limits: Limits, run_in_thread: InThread,
                 local_copy: LocalCopy) -> None:
        self._dir = derived_dir
        self._limits = limits
        self._thread = run_in_thread
        self._local_copy = local_copy

    async def get(self, media: LocalMedia, info: MediaInfo,
                  wanted: ThumbnailRequest) -> Made | None:
        if self._dir is None:
            return None
        target = self._dir / "thumbnails" / info.sha256[:2] / wanted.file_name(info.sha256)
        if target.is_file():
            return Made(target, MIME[wanted.fmt])
        if info.kind == "video":
            source = poster_path(self._dir, info.sha256)
            if not source.is_file():
                return None
            await self._make(source, target, wanted)
        else:
            async with self._local_copy(media.media_id) as path:
                await self._make(Path(path), target, wanted)
        return Made(target, MIME[wanted.fmt]) if target.is_file() else None

    async def _make(self, source: Path, target: Path, wanted: ThumbnailRequest) -> None:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        await self._thread(
            image_processing.thumbnail, source, partial, self._limits, width=wanted.width,
            height=wanted.height, method=wanted.method, fmt=wanted.fmt,
            animated=wanted.animated)
        partial.replace(target)
