"""images.clean_image removes EXIF (with GPS), XMP, IPTC, comments and text, losslessly when
the picture needs no turning: the decoded pixels stay identical."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageSequence

from hearth.media_repo import images
from tests.unit.media_repo import fixtures_images as make

LIMITS = {"max_pixels": 32_000_000, "max_decoded_bytes": 100_000_000}
SECRETS = (b"Ann Author", b"Camera Maker", b"shot at home", b"TRAILER-with-secrets")
LOSSLESS: dict[str, tuple[Callable[[Path], Path], set[str]]] = {
    "jpeg": (make.jpeg, {"exif", "xmp", "iptc", "comment", "trailer"}),
    "png": (make.png, {"exif", "xmp", "text", "time"}),
    "gif": (make.gif, {"comment", "xmp"}),
    "webp": (make.webp, {"exif", "xmp"}),
    "webp-animated": (lambda p: make.webp(p, count=3), {"exif", "xmp"}),
}


def decoded(path: Path) -> list[bytes]:
    """Every frame's pixels, as Pillow decodes them."""
    with Image.open(path) as image:
        return [frame.convert("RGBA").tobytes() for frame in ImageSequence.Iterator(image)]


@pytest.mark.parametrize("name", sorted(LOSSLESS))
def test_metadata_removed_and_pixels_identical(tmp_path: Path, name: str) -> None:
    """No EXIF/GPS/XMP/comment survives; the pixels decode to the very same bytes."""
    maker, expected = LOSSLESS[name]
    src = maker(tmp_path / name)
    assert any(secret in src.read_bytes() for secret in SECRETS)
    dst = tmp_path / "clean"
    info = images.clean_image(src, dst, **LIMITS)
    assert set(info.stripped) == expected
    data = dst.read_bytes()
    assert not [secret for secret in SECRETS if secret in data]
    with Image.open(dst) as cleaned:
        assert not cleaned.getexif()
        assert not cleaned.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "Author"} & set(cleaned.info)
    assert decoded(dst) == decoded(src)


def test_jpeg_keeps_jfif_and_icc_profile(tmp_path: Path) -> None:
    """The colour profile (APP2 ICC) and JFIF header stay: they shape how pixels look."""
    dst = tmp_path / "clean.jpg"
    images.clean_image(make.jpeg(tmp_path / "a.jpg"), dst, **LIMITS)
    with Image.open(dst) as cleaned:
        assert cleaned.info["icc_profile"] == make.srgb_icc()
        assert "jfif" in cleaned.info


def test_webp_keeps_icc_and_clears_metadata_flags(tmp_path: Path) -> None:
    """WebP's VP8X header no longer announces EXIF/XMP, and the RIFF size adds up."""
    dst = tmp_path / "clean.webp"
    images.clean_image(make.webp(tmp_path / "a.webp"), dst, **LIMITS)
    data = dst.read_bytes()
    assert int.from_bytes(data[4:8], "little") == len(data) - 8
    assert data[12:16] == b"VP8X" and data[20] & 0x0C == 0
    assert b"EXIF" not in data and b"XMP " not in data
    with Image.open(dst) as cleaned:
        assert cleaned.info["icc_profile"] == make.srgb_icc()


def test_gif_keeps_loop_and_durations(tmp_path: Path) -> None:
    """The NETSCAPE looping extension and frame timings are kept."""
    dst = tmp_path / "clean.gif"
    images.clean_image(make.gif(tmp_path / "a.gif"), dst, **LIMITS)
    with Image.open(dst) as cleaned:
        assert cleaned.info["loop"] == 0
        durations = [frame.info["duration"] for frame in ImageSequence.Iterator(cleaned)]
    assert durations == [80, 120, 80, 120]


def test_avif_reencoded_without_metadata(tmp_path: Path) -> None:
    """AVIF is re-encoded: EXIF (with GPS) and XMP are gone, the picture is the same size."""
    src = make.avif(tmp_path / "a.avif")
    dst = tmp_path / "clean.avif"
    info = images.clean_image(src, dst, **LIMITS)
    assert set(info.stripped) == {"exif", "xmp"} and info.rewritten
    data = dst.read_bytes()
    assert b"Ann Author" not in data and b"Camera Maker" not in data
    with Image.open(dst) as cleaned:
        assert cleaned.format == "AVIF" and cleaned.size == (64, 48)
        assert not cleaned.getexif() and "xmp" not in cleaned.info


def test_jpeg_segments_between_scans_removed(tmp_path: Path) -> None:
    """A comment hidden between the scans of a progressive JPEG is found and removed."""
    src = tmp_path / "p.jpg"
    make.picture((64, 48), noise=True).save(src, "JPEG", progressive=True, quality=80)
    data = src.read_bytes()
    second_scan = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    comment = b"\xff\xfe\x00\x10hidden comment"
    src.write_bytes(data[:second_scan] + comment + data[second_scan:])
    dst = tmp_path / "clean.jpg"
    info = images.clean_image(src, dst, **LIMITS)
    assert info.stripped == ("comment",)
    assert b"hidden comment" not in dst.read_bytes()
    assert decoded(dst) == decoded(src)
