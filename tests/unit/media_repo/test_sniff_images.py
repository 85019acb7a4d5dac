"""sniff.detect names each image format from its bytes (files made with Pillow)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from PIL import Image

from hearth.media_repo import sniff
from tests.unit.media_repo import fixtures_images as make


def detect_file(path: Path, declared: str | None = None) -> sniff.Detected:
    data = path.read_bytes()
    return sniff.detect(data[:65536], declared, len(data))


@pytest.mark.parametrize(("pillow_format", "mime"), [
    ("JPEG", "image/jpeg"), ("PNG", "image/png"), ("GIF", "image/gif"), ("WEBP", "image/webp"),
    ("AVIF", "image/avif"), ("BMP", "image/bmp"), ("TIFF", "image/tiff"),
])
def test_raster_format_detected_from_pillow_file(tmp_path: Path, pillow_format: str,
                                                 mime: str) -> None:
    """Every raster format Pillow writes is recognised as an image of its own type."""
    path = tmp_path / "picture"
    make.picture().save(path, pillow_format)
    assert detect_file(path) == sniff.Detected(mime, "image", None, False)


def test_apng_detected_as_png(tmp_path: Path) -> None:
    """An animated PNG is image/png (APNG is a PNG with extra chunks)."""
    path = tmp_path / "anim.png"
    pictures = make.frames(3)
    pictures[0].save(path, "PNG", save_all=True, append_images=pictures[1:], duration=50)
    assert b"acTL" in path.read_bytes()
    assert detect_file(path).mime == "image/png"


def test_animated_webp_detected_as_webp(tmp_path: Path) -> None:
    """An animated WebP (VP8X + ANMF chunks) is image/webp."""
    assert detect_file(make.webp(tmp_path / "a.webp", count=3)).mime == "image/webp"


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08mdat"


@pytest.mark.parametrize(("major", "compatible", "mime"), [
    (b"heic", (b"mif1", b"heic"), "image/heic"),
    (b"heix", (b"mif1",), "image/heic"),
    (b"mif1", (b"mif1", b"heic"), "image/heic"),
    (b"avif", (b"mif1", b"miaf"), "image/avif"),
    (b"avis", (b"avis", b"msf1"), "image/avif"),
    (b"mif1", (b"avif", b"mif1"), "image/avif"),
])
def test_heif_brands_detected(major: bytes, compatible: tuple[bytes, ...], mime: str) -> None:
    """HEIF files are told apart by their ftyp brands: AVIF wherever avif is listed."""
    head = _ftyp(major, *compatible)
    assert sniff.detect(head, None, len(head)) == sniff.Detected(mime, "image", None, False)


def test_avif_from_pillow_has_avif_brand(tmp_path: Path) -> None:
    """A real AVIF file (not only a hand-made header) is image/avif."""
    assert detect_file(make.avif(tmp_path / "a.avif")).kind == "image"


@pytest.mark.parametrize("svg", [
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg">',
    b'\xef\xbb\xbf<?xml version="1.0"?><!-- Generator: Illustrator -->\n'
    b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/'
    b'svg11.dtd" [<!ENTITY e "x">]>\n<svg version="1.1"><script>alert(1)</script></svg>',
    b'<!-- a comment first -->\n<svg:svg xmlns:svg="http://www.w3.org/2000/svg"></svg:svg>',
])
def test_svg_detected_as_script_capable_document(svg: bytes) -> None:
    """SVG is image/svg+xml of kind document (it can carry script), whatever its prolog."""
    assert sniff.detect(svg, "image/svg+xml", len(svg)) == sniff.Detected(
        "image/svg+xml", "document", "image/svg+xml", False)


def test_truncated_image_head_still_detected(tmp_path: Path) -> None:
    """Only the head is read: a file larger than 64 KiB is named from its first bytes."""
    path = tmp_path / "big.png"
    make.picture((600, 600), noise=True).save(path, "PNG")
    data = path.read_bytes()
    assert len(data) > 65536
    assert sniff.detect(data[:65536], None, len(data)).mime == "image/png"


def test_image_with_alpha_detected(tmp_path: Path) -> None:
    """Mode does not matter: an RGBA PNG is still image/png."""
    path = tmp_path / "alpha.png"
    make.picture(mode="RGBA").save(path, "PNG")
    assert Image.open(path).mode == "RGBA"
    assert detect_file(path).mime == "image/png"
