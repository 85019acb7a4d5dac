"""images.clean_image accepts every supported format and writes a file of the same format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import blurhash
import pytest
from PIL import Image, ImageSequence

from hearth.media_repo import images
from tests.unit.media_repo import fixtures_images as make

LIMITS = {"max_pixels": 32_000_000, "max_decoded_bytes": 100_000_000}
Maker = Callable[[Path], Path]
CASES: dict[str, tuple[Maker, str, tuple[int, int], int]] = {
    "jpeg": (make.jpeg, "image/jpeg", (64, 48), 1),
    "png": (make.png, "image/png", (64, 48), 1),
    "gif-still": (lambda p: make.gif(p, count=1), "image/gif", (40, 30), 1),
    "gif-animated": (make.gif, "image/gif", (40, 30), 4),
    "webp-still": (make.webp, "image/webp", (64, 48), 1),
    "webp-lossless": (lambda p: make.webp(p, lossless=True), "image/webp", (64, 48), 1),
    "webp-animated": (lambda p: make.webp(p, count=3), "image/webp", (40, 30), 3),
    "avif": (make.avif, "image/avif", (64, 48), 1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_format_round_trips(tmp_path: Path, name: str) -> None:
    """The cleaned file decodes as the same format, size and frame count."""
    maker, mime, size, frames = CASES[name]
    src = maker(tmp_path / name)
    dst = tmp_path / "clean"
    info = images.clean_image(src, dst, **LIMITS)
    assert (info.mime, (info.width, info.height), info.frames) == (mime, size, frames)
    assert info.animated is (frames > 1)
    assert info.rewritten
    with Image.open(dst) as cleaned:
        assert Image.MIME[cleaned.format or ""] == mime
        assert cleaned.size == size
        assert sum(1 for _ in ImageSequence.Iterator(cleaned)) == frames


def test_apng_round_trips_with_its_frames(tmp_path: Path) -> None:
    """An animated PNG keeps its frames (acTL/fcTL/fdAT are pixel data, not metadata)."""
    src = tmp_path / "anim.png"
    pictures = make.frames(3)
    pictures[0].save(src, "PNG", save_all=True, append_images=pictures[1:], duration=60)
    info = images.clean_image(src, tmp_path / "clean", **LIMITS)
    assert (info.animated, info.frames) == (True, 3)
    assert getattr(Image.open(tmp_path / "clean"), "n_frames", 1) == 3


def test_clean_file_is_copied_unchanged(tmp_path: Path) -> None:
    """An image without metadata is written as it is, and ``rewritten`` says so."""
    src = make.png(tmp_path / "plain.png", metadata=False)
    info = images.clean_image(src, tmp_path / "clean", **LIMITS)
    assert (info.rewritten, info.stripped) == (False, ())
    assert (tmp_path / "clean").read_bytes() == src.read_bytes()


def test_blurhash_describes_the_picture(tmp_path: Path) -> None:
    """The blurhash has 4x3 components and decodes to the picture's colours."""
    src = tmp_path / "red.png"
    Image.new("RGB", (50, 40), (220, 20, 20)).save(src)
    info = images.clean_image(src, tmp_path / "clean", **LIMITS)
    assert blurhash.components(info.blurhash) == (4, 3)
    pixel = blurhash.decode(info.blurhash, 4, 4)[2][2]
    assert pixel[0] > 180 and pixel[1] < 60 and pixel[2] < 60


def test_transparent_blurhash_is_taken_on_white(tmp_path: Path) -> None:
    """A fully transparent image hashes as white, not black."""
    src = tmp_path / "clear.png"
    Image.new("RGBA", (30, 30), (0, 0, 0, 0)).save(src)
    info = images.clean_image(src, tmp_path / "clean", **LIMITS)
    assert min(blurhash.decode(info.blurhash, 2, 2)[0][0]) > 240
