"""images.make_thumbnail sizes thumbnails as Synapse does and writes each output format."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from hearth.media_repo import images
from tests.unit.media_repo import fixtures_images as make


def source(tmp_path: Path, size: tuple[int, int], mode: str = "RGB", fmt: str = "PNG") -> Path:
    path = tmp_path / f"src.{fmt.lower()}"
    make.picture(size, mode).save(path, fmt)
    return path


# Synapse's default thumbnail sizes, on a wide 1000x500 source and a small 100x80 one.
@pytest.mark.parametrize(("src_size", "box", "method", "expected"), [
    ((1000, 500), (32, 32), "crop", (32, 32)),
    ((1000, 500), (96, 96), "crop", (96, 96)),
    ((1000, 500), (320, 240), "scale", (320, 160)),
    ((1000, 500), (640, 480), "scale", (640, 320)),
    ((1000, 500), (800, 600), "scale", (800, 400)),
    ((1000, 500), (2000, 2000), "scale", (1000, 500)),  # scale never enlarges
    ((500, 1000), (320, 240), "scale", (120, 240)),
    ((100, 80), (320, 240), "scale", (100, 80)),
    ((100, 80), (96, 96), "crop", (96, 96)),  # crop fills the box, as Synapse does
    ((3, 1000), (32, 32), "scale", (1, 32)),  # never zero wide
])
def test_thumbnail_size_follows_synapse(tmp_path: Path, src_size: tuple[int, int],
                                        box: tuple[int, int], method: images.Method,
                                        expected: tuple[int, int]) -> None:
    """scale fits inside the box keeping the aspect (never enlarging); crop fills it."""
    dst = tmp_path / "thumb"
    info = images.make_thumbnail(source(tmp_path, src_size), dst, width=box[0], height=box[1],
                                 method=method, fmt="png", animated=False)
    assert (info.width, info.height) == expected
    with Image.open(dst) as thumb:
        assert thumb.size == expected


def test_crop_keeps_the_centre(tmp_path: Path) -> None:
    """crop cuts equally from both sides: a centred stripe stays in the middle."""
    src = tmp_path / "stripe.png"
    picture = Image.new("RGB", (300, 100), "white")
    picture.paste((0, 0, 255), (140, 0, 160, 100))
    picture.save(src)
    dst = tmp_path / "thumb.png"
    images.make_thumbnail(src, dst, width=50, height=50, method="crop", fmt="png",
                          animated=False)
    with Image.open(dst) as thumb:
        rgb = thumb.convert("RGB")
        assert rgb.getpixel((25, 25))[2] > 200 and rgb.getpixel((25, 25))[0] < 80  # type: ignore[index]
        assert rgb.getpixel((2, 25)) == (255, 255, 255)


@pytest.mark.parametrize(("fmt", "mime", "pillow"), [
    ("jpeg", "image/jpeg", "JPEG"), ("png", "image/png", "PNG"), ("webp", "image/webp", "WEBP"),
    ("avif", "image/avif", "AVIF"), ("gif", "image/gif", "GIF"),
])
def test_each_output_format_decodes(tmp_path: Path, fmt: images.ThumbnailFormat, mime: str,
                                    pillow: str) -> None:
    """Every output format is written as itself and decodes."""
    dst = tmp_path / "thumb"
    info = images.make_thumbnail(make.jpeg(tmp_path / "a.jpg", make.picture((400, 300))), dst,
                                 width=96, height=96, method="crop", fmt=fmt, animated=False)
    assert info == images.ThumbnailInfo(mime, 96, 96, False)
    with Image.open(dst) as thumb:
        assert thumb.format == pillow
        thumb.load()


@pytest.mark.parametrize("fmt", ["png", "webp", "avif"])
def test_transparency_kept_where_the_format_has_alpha(tmp_path: Path,
                                                      fmt: images.ThumbnailFormat) -> None:
    """A transparent source stays transparent in PNG, WebP and AVIF thumbnails."""
    dst = tmp_path / "thumb"
    images.make_thumbnail(source(tmp_path, (200, 200), "RGBA"), dst, width=64, height=64,
                          method="scale", fmt=fmt, animated=False)
    with Image.open(dst) as thumb:
        assert thumb.mode in ("RGBA", "LA", "PA") or "transparency" in thumb.info
        alpha = thumb.convert("RGBA").getchannel("A").getextrema()
        assert alpha[0] < 128  # type: ignore[operator]


def test_jpeg_thumbnail_flattens_transparency_on_white(tmp_path: Path) -> None:
    """JPEG has no alpha: transparent parts become white, not black."""
    src = tmp_path / "clear.png"
    Image.new("RGBA", (100, 100), (0, 0, 0, 0)).save(src)
    dst = tmp_path / "thumb.jpg"
    images.make_thumbnail(src, dst, width=32, height=32, method="scale", fmt="jpeg",
                          animated=False)
    with Image.open(dst) as thumb:
        assert thumb.mode == "RGB"
        assert min(thumb.getpixel((16, 16))) > 245  # type: ignore[arg-type]


def test_palette_gif_with_transparency_keeps_it(tmp_path: Path) -> None:
    """A palette image with a transparent index is scaled in RGBA, keeping the hole."""
    src = make.gif(tmp_path / "a.gif", count=1, metadata=False, transparent=True)
    dst = tmp_path / "thumb.png"
    images.make_thumbnail(src, dst, width=20, height=20, method="scale", fmt="png",
                          animated=False)
    with Image.open(dst) as thumb:
        assert thumb.mode == "RGBA"


def test_orientation_applied_to_thumbnail(tmp_path: Path) -> None:
    """A source still carrying EXIF orientation is thumbnailed the right way up."""
    src = make.jpeg(tmp_path / "a.jpg", make.picture((400, 200)), orientation=6)
    dst = tmp_path / "thumb.png"
    info = images.make_thumbnail(src, dst, width=320, height=240, method="scale", fmt="png",
                                 animated=False)
    assert (info.width, info.height) == (120, 240)


def test_non_image_thumbnail_refused(tmp_path: Path) -> None:
    """Only the formats Synapse thumbnails (and AVIF) are opened."""
    src = tmp_path / "x.bmp"
    make.picture().save(src, "BMP")
    with pytest.raises(images.ImageRefused) as refused:
        images.make_thumbnail(src, tmp_path / "t", width=32, height=32, method="crop",
                              fmt="png", animated=False)
    assert refused.value.reason == "unsupported"
