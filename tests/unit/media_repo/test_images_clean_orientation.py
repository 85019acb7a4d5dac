"""images.clean_image applies EXIF orientation: the picture is turned and re-encoded in its
own format, so every client shows it the right way up without metadata."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageSequence

from hearth.media_repo import images
from tests.unit.media_repo import fixtures_images as make

LIMITS = {"max_pixels": 32_000_000, "max_decoded_bytes": 100_000_000}
MAKERS: dict[str, Callable[..., Path]] = {
    "jpeg": make.jpeg, "png": make.png, "webp": make.webp, "avif": make.avif,
    "webp-animated": lambda p, **kw: make.webp(p, count=3, **kw),
}


def corner_colours(image: Image.Image) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The colour near the top-left and top-right corners."""
    rgb = image.convert("RGB")
    return rgb.getpixel((2, 2)), rgb.getpixel((rgb.width - 3, 2))  # type: ignore[return-value]


def is_red(colour: tuple[int, ...]) -> bool:
    return colour[0] > 180 and colour[1] < 90 and colour[2] < 90


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_orientation_6_turns_the_picture(tmp_path: Path, name: str) -> None:
    """Orientation 6 (turn 90 degrees clockwise to view): dimensions swap and the red
    top-left corner of the stored picture shows at the top right."""
    src = MAKERS[name](tmp_path / name, orientation=6)
    with Image.open(src) as original:
        width, height = original.size
        assert is_red(corner_colours(original)[0])
    dst = tmp_path / "clean"
    info = images.clean_image(src, dst, **LIMITS)
    assert (info.width, info.height) == (height, width)
    assert info.rewritten and "exif" in info.stripped
    with Image.open(dst) as cleaned:
        assert cleaned.size == (height, width)
        assert Image.MIME[cleaned.format or ""] == info.mime
        assert not cleaned.getexif()
        for frame in ImageSequence.Iterator(cleaned):
            left, right = corner_colours(frame)
            assert is_red(right) and not is_red(left)


@pytest.mark.parametrize(("orientation", "swapped", "red_at"), [
    (2, False, "right"), (3, False, "bottom-right"), (8, True, "bottom-left"),
])
def test_other_orientations_applied(tmp_path: Path, orientation: int, swapped: bool,
                                    red_at: str) -> None:
    """Mirroring and the other turns land the red corner where EXIF says it shows."""
    src = make.jpeg(tmp_path / "a.jpg", orientation=orientation)
    dst = tmp_path / "clean.jpg"
    info = images.clean_image(src, dst, **LIMITS)
    assert (info.width, info.height) == ((48, 64) if swapped else (64, 48))
    with Image.open(dst) as cleaned:
        rgb = cleaned.convert("RGB")
        x = 2 if red_at.endswith("left") else rgb.width - 3
        y = rgb.height - 3 if red_at.startswith("bottom") else 2
        assert is_red(rgb.getpixel((x, y)))  # type: ignore[arg-type]


def test_reencoded_jpeg_keeps_icc_profile(tmp_path: Path) -> None:
    """Turning re-encodes the JPEG, keeping its colour profile."""
    dst = tmp_path / "clean.jpg"
    images.clean_image(make.jpeg(tmp_path / "a.jpg", orientation=6), dst, **LIMITS)
    with Image.open(dst) as cleaned:
        assert cleaned.info["icc_profile"] == make.srgb_icc()


def test_blurhash_follows_orientation(tmp_path: Path) -> None:
    """The blurhash is of the picture as shown (after turning)."""
    straight = images.clean_image(make.jpeg(tmp_path / "a.jpg"), tmp_path / "a", **LIMITS)
    turned = images.clean_image(make.jpeg(tmp_path / "b.jpg", orientation=3), tmp_path / "b",
                                **LIMITS)
    assert straight.blurhash != turned.blurhash
