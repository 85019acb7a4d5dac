"""The files the media scenarios upload, made here (bench never imports tests/): 100 KB JPEGs,
each index a distinct content; 12 MP camera JPEGs with EXIF and GPS; an H.264 MP4 of a given
size from ffmpeg's ``testsrc2``. Made on first use and kept for the run."""

from __future__ import annotations

import io
import shutil
import subprocess
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw

SMALL_SIZE = (800, 600)
SMALL_TARGET_BYTES = 100 * 1024
SMALL_QUALITY = 80
LARGE_SIZE = (4000, 3000)  # 12 MP
LARGE_QUALITY = 90
VIDEO_SIZE = "1280x720"
VIDEO_MAX_S = 600
FFMPEG_TIMEOUT_S = 300.0
# EXIF tags: Make, Model, DateTime, Orientation; the GPS IFD pointer.
MAKE, MODEL, DATETIME, ORIENTATION, GPS_IFD = 0x010F, 0x0110, 0x0132, 0x0112, 0x8825
INDEX_BITS = 32
INDEX_CELL = 8


def _photo_like(size: tuple[int, int], noise: float) -> Image.Image:
    """A gradient with colour noise blended in: compresses like a photo, not like a test card."""
    grain = Image.merge("RGB", [Image.effect_noise(size, sigma).convert("L")
                                for sigma in (30, 35, 40)])
    gradient = Image.merge("RGB", (Image.linear_gradient("L").resize(size),
                                   Image.radial_gradient("L").resize(size),
                                   Image.linear_gradient("L").rotate(90).resize(size)))
    return Image.blend(gradient, grain, noise)


def _jpeg(image: Image.Image, quality: int, exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    if exif is None:
        image.save(out, "JPEG", quality=quality)
    else:
        image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def _paint_index(picture: Image.Image, index: int) -> None:
    """``index`` as a row of black and white squares in the top left corner."""
    draw = ImageDraw.Draw(picture)
    for bit in range(INDEX_BITS):
        colour = (255, 255, 255) if index >> bit & 1 else (0, 0, 0)
        x = bit * INDEX_CELL
        draw.rectangle((x, 0, x + INDEX_CELL - 1, INDEX_CELL - 1), fill=colour)


class SmallImages:
    """~100 KB 800x600 JPEGs; ``image(i)`` differs from ``image(j)`` for every i != j (the
    index is painted into the corner), so object storage de-duplicates only what a scenario
    uploads twice on purpose."""

    def __init__(self) -> None:
        self._base = self._tuned_base()
        self._next_index = 0

    @staticmethod
    def _tuned_base() -> Image.Image:
        """The base picture with as much grain as makes its JPEG about 100 KB."""
        low, high = 0.05, 0.95
        best = _photo_like(SMALL_SIZE, 0.5)
        for _ in range(7):
            noise = (low + high) / 2
            best = _photo_like(SMALL_SIZE, noise)
            if len(_jpeg(best, SMALL_QUALITY)) > SMALL_TARGET_BYTES:
                high = noise
            else:
                low = noise
        return best

    def image(self, index: int) -> bytes:
        """The JPEG of ``index`` (0 <= index < 2**32)."""
        picture = self._base.copy()
        _paint_index(picture, index)
        return _jpeg(picture, SMALL_QUALITY)

    def fresh(self, count: int) -> list[bytes]:
        """``count`` JPEGs no earlier call returned: every upload of the run its own content."""
        start, self._next_index = self._next_index, self._next_index + count
        return [self.image(start + i) for i in range(count)]


@cache
def small_images() -> SmallImages:
    """The run's 100 KB JPEG maker (the base picture is tuned once)."""
    return SmallImages()


@cache
def _camera_picture() -> Image.Image:
    return _photo_like(LARGE_SIZE, 0.25)


@cache
def camera_jpeg(orientation: int, variant: int) -> bytes:
    """A 12 MP JPEG as a phone writes it: quality 90, EXIF with make, model, date, the given
    orientation and a GPS position; each ``variant`` a distinct picture."""
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[DATETIME] = "Hearth", "Bench 12", "2026:01:02 03:04:05"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (52.0, 22.0, 10.5), 3: "E", 4: (4.0, 53.0, 20.1)}
    picture = _camera_picture().copy()
    _paint_index(picture, orientation << 16 | variant)
    return _jpeg(picture, LARGE_QUALITY, exif)


def ffmpeg_binary() -> str:
    """ffmpeg (deploy/system-packages.txt installs it)."""
    found = shutil.which("ffmpeg")
    if found is None:
        raise RuntimeError("ffmpeg is not installed: run deploy/install-system-packages.sh")
    return found


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_binary(), "-v", "error", "-y", *args], check=True,
                   capture_output=True, timeout=FFMPEG_TIMEOUT_S)


def _base_video(directory: Path, megabytes: int) -> Path:
    """An H.264 MP4 (720p, lossless, so it grows fast) cut at ``megabytes`` MB; made once."""
    target = directory / f"testsrc2-{megabytes}MB.mp4"
    if not target.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part.mp4")
        _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={VIDEO_SIZE}:rate=30",
                "-t", str(VIDEO_MAX_S), "-fs", str(megabytes * 1_000_000), "-c:v", "libx264",
                "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p",
                "-movflags", "+faststart", str(partial))
        partial.rename(target)
    return target


def video(directory: Path, megabytes: int, variant: int) -> Path:
    """The base video with ``variant`` in its metadata (streams copied): the same picture,
    distinct bytes, so object storage does not de-duplicate one variant against another."""
    target = directory / f"testsrc2-{megabytes}MB-{variant}.mp4"
    if not target.is_file():
        partial = target.with_suffix(".part.mp4")
        _ffmpeg("-i", str(_base_video(directory, megabytes)), "-map", "0", "-c", "copy",
                "-metadata", f"comment=hearth bench {variant}", "-movflags", "+faststart",
                str(partial))
        partial.rename(target)
    return target
