"""image_processing.clean and .thumbnail run the worker in a real limited child process and
turn its answers into ImageInfo / ThumbnailInfo, and its refusals into Matrix errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from hearth.media_repo import image_processing
from hearth.media_repo.errors import MediaRejected
from hearth.media_repo.images import ImageInfo, ThumbnailInfo
from hearth.media_repo.sandbox import Limits
from tests.unit.media_repo import fixtures_images as make

LIMITS = Limits(memory_bytes=1 << 30, cpu_seconds=20, wall_seconds=60)
PIXELS = {"max_pixels": 32_000_000, "max_decoded_bytes": 100_000_000}
MAKERS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "jpeg": (make.jpeg, "image/jpeg"), "png": (make.png, "image/png"),
    "gif": (make.gif, "image/gif"), "webp": (lambda p: make.webp(p, count=3), "image/webp"),
    "avif": (make.avif, "image/avif"),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_clean_through_the_sandbox_round_trips(tmp_path: Path, name: str) -> None:
    """Each format is cleaned by the child: an ImageInfo back and a clean file written."""
    maker, mime = MAKERS[name]
    dst = tmp_path / "clean"
    info = image_processing.clean(maker(tmp_path / name), dst, LIMITS, **PIXELS)
    assert isinstance(info, ImageInfo) and info.mime == mime and info.rewritten
    assert isinstance(info.stripped, tuple) and info.stripped
    assert len(info.blurhash) > 6
    with Image.open(dst) as cleaned:
        assert Image.MIME[cleaned.format or ""] == mime
        assert not cleaned.getexif()


def test_orientation_applied_through_the_sandbox(tmp_path: Path) -> None:
    """The size reported is the size after turning."""
    info = image_processing.clean(make.jpeg(tmp_path / "a.jpg", orientation=6),
                                  tmp_path / "clean", LIMITS, **PIXELS)
    assert (info.width, info.height) == (48, 64)


def test_thumbnail_through_the_sandbox(tmp_path: Path) -> None:
    """A thumbnail made by the child comes back as ThumbnailInfo."""
    dst = tmp_path / "thumb.webp"
    info = image_processing.thumbnail(make.gif(tmp_path / "a.gif"), dst, LIMITS, width=20,
                                      height=20, method="scale", fmt="webp", animated=True)
    assert info == ThumbnailInfo("image/webp", 20, 15, True)
    assert getattr(Image.open(dst), "n_frames", 1) == 4


def rejected(call: Callable[[], object]) -> MediaRejected:
    with pytest.raises(MediaRejected) as refused:
        call()
    return refused.value


def test_truncated_image_is_400_invalid_param(tmp_path: Path) -> None:
    """A malformed image is 400 M_INVALID_PARAM with the worker's explanation."""
    src = make.truncated(make.png(tmp_path / "a.png"), tmp_path / "cut.png")
    error = rejected(lambda: image_processing.clean(src, tmp_path / "c", LIMITS, **PIXELS))
    assert (error.status, error.errcode, error.reason) == (400, "M_INVALID_PARAM", "malformed")
    assert error.message.startswith("The image is truncated or corrupt (PNG): ")


def test_bomb_is_413_too_large(tmp_path: Path) -> None:
    """A pixel bomb is 413 M_TOO_LARGE naming its size and the limit, even under a small
    memory limit (it is refused from its header, never decoded)."""
    src = make.png_header_only(tmp_path / "bomb.png", 40_000, 40_000)
    small = Limits(memory_bytes=200 << 20, cpu_seconds=10, wall_seconds=30)
    error = rejected(lambda: image_processing.clean(src, tmp_path / "c", small, **PIXELS))
    assert (error.status, error.errcode, error.reason) == (413, "M_TOO_LARGE", "too_large")
    assert error.message == ("The image is 40000\N{MULTIPLICATION SIGN}40000 pixels; this "
                             "server accepts at most 32,000,000")


def test_gif_with_huge_frame_count_is_413(tmp_path: Path) -> None:
    """Too many frames to decode is 413 M_TOO_LARGE."""
    src = make.gif_many_frames(tmp_path / "many.gif", width=2000, height=2000, count=200)
    error = rejected(lambda: image_processing.clean(src, tmp_path / "c", LIMITS, **PIXELS))
    assert (error.status, error.errcode, error.reason) == (413, "M_TOO_LARGE", "too_large")


def test_unsupported_image_is_400(tmp_path: Path) -> None:
    """An image format that cannot be cleaned is 400 M_INVALID_PARAM, reason unsupported."""
    src = tmp_path / "a.heic"
    src.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64)
    error = rejected(lambda: image_processing.clean(src, tmp_path / "c", LIMITS, **PIXELS))
    assert (error.status, error.errcode, error.reason) == (400, "M_INVALID_PARAM",
                                                           "unsupported")


def test_worker_over_its_memory_limit_is_killed_and_413(tmp_path: Path) -> None:
    """A real image needing more memory than the child may use: the child dies, the caller
    gets 413 M_TOO_LARGE "too costly to process"; the same limit cleans small images."""
    tight = Limits(memory_bytes=100 << 20, cpu_seconds=20, wall_seconds=60)
    loose = {"max_pixels": 100_000_000, "max_decoded_bytes": 1 << 30}
    small = image_processing.clean(make.jpeg(tmp_path / "a.jpg"), tmp_path / "a", tight,
                                   **loose)
    assert small.width == 64
    src = make.flat_png(tmp_path / "big.png", 6000, 6000)
    error = rejected(lambda: image_processing.clean(src, tmp_path / "c", tight, **loose))
    assert (error.status, error.errcode, error.reason) == (413, "M_TOO_LARGE",
                                                           "processing_limit")
    assert error.message == ("The image is too costly to process: it needs more than 100 MiB "
                             "of memory")


def test_worker_past_its_wall_time_is_killed_and_413(tmp_path: Path) -> None:
    """A child still running at its wall-clock limit is killed: 413 processing_limit."""
    instant = Limits(memory_bytes=1 << 30, cpu_seconds=20, wall_seconds=0.001)
    error = rejected(lambda: image_processing.clean(make.jpeg(tmp_path / "a.jpg"),
                                                    tmp_path / "c", instant, **PIXELS))
    assert (error.status, error.reason) == (413, "processing_limit")
    assert "it takes longer than 0.001 s" in error.message
