"""images.clean_image refuses truncated and corrupt files, bombs and formats it cannot clean,
with a reason and a message a person can act on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hearth.media_repo import images
from tests.unit.media_repo import fixtures_images as make

LIMITS = {"max_pixels": 32_000_000, "max_decoded_bytes": 100_000_000}
MAKERS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "jpeg": (lambda p: make.jpeg(p, make.picture((200, 150), noise=True)), "JPEG"),
    "png": (lambda p: make.png(p, make.picture((200, 150), noise=True)), "PNG"),
    "gif": (make.gif, "GIF"),
    "webp": (lambda p: make.webp(p, count=3), "WebP"),
    "avif": (make.avif, "AVIF"),
}


def refusal(src: Path, tmp_path: Path, **limits: int) -> images.ImageRefused:
    dst = tmp_path / "clean"
    with pytest.raises(images.ImageRefused) as refused:
        images.clean_image(src, dst, **{**LIMITS, **limits})
    assert not dst.exists()
    return refused.value


@pytest.mark.parametrize("name", sorted(MAKERS))
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_image_refused(tmp_path: Path, name: str, keep: float) -> None:
    """A file cut short is malformed, and the message names the format."""
    maker, label = MAKERS[name]
    src = make.truncated(maker(tmp_path / name), tmp_path / "cut", keep)
    refused = refusal(src, tmp_path)
    assert refused.reason == "malformed"
    assert refused.message.startswith(f"The image is truncated or corrupt ({label}): ")


# Where each format is hurt: a place the container or decoder checks.
DAMAGE = {"jpeg": lambda data: data.index(b"\xff\xc4"),  # the Huffman tables
          "png": lambda data: data.index(b"IDAT") + 20,
          "gif": lambda data: data.index(b"\x2c") + 12,
          "webp": lambda data: data.index(b"ANMF") + 30,
          "avif": lambda data: data.index(b"mdat") + 8}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_corrupt_image_refused(tmp_path: Path, name: str) -> None:
    """Garbage over the image's structure or pixel data is malformed."""
    maker, label = MAKERS[name]
    src = maker(tmp_path / name)
    at = DAMAGE[name](src.read_bytes())
    refused = refusal(make.damaged(src, tmp_path / "bad", at, b"\xde\xad" * 40), tmp_path)
    assert refused.reason == "malformed"
    assert f"({label})" in refused.message


def test_png_bomb_refused_from_its_header(tmp_path: Path) -> None:
    """A tiny PNG claiming 50000x50000 pixels is refused before any pixel is decoded."""
    src = make.png_header_only(tmp_path / "bomb.png", 50_000, 50_000)
    assert src.stat().st_size < 200
    refused = refusal(src, tmp_path)
    assert refused.reason == "too_large"
    assert refused.message == ("The image is 50000\N{MULTIPLICATION SIGN}50000 pixels; this "
                               "server accepts at most 32,000,000")


def test_pixels_just_over_the_limit_refused(tmp_path: Path) -> None:
    """Between Pillow's own warning and error thresholds, the limit still holds."""
    src = make.png_header_only(tmp_path / "big.png", 6000, 6000)
    refused = refusal(src, tmp_path, max_pixels=30_000_000)
    assert refused.reason == "too_large"
    assert "6000\N{MULTIPLICATION SIGN}6000" in refused.message


def test_gif_with_huge_frame_count_refused(tmp_path: Path) -> None:
    """A small GIF whose frames would decode to more bytes than allowed is refused."""
    src = make.gif_many_frames(tmp_path / "many.gif", width=1000, height=1000, count=500)
    assert src.stat().st_size < 20_000
    refused = refusal(src, tmp_path)
    assert refused.reason == "too_large"
    assert "500,000,000 bytes" in refused.message and "500 frames" in refused.message


def test_gif_frame_beyond_the_screen_counts(tmp_path: Path) -> None:
    """A GIF frame placed far outside its small screen grows the canvas; that is counted."""
    src = make.gif_many_frames(tmp_path / "one.gif", width=10, height=10, count=1)
    data = bytearray(src.read_bytes())
    at = data.index(b"\x2c")
    data[at + 1:at + 5] = (60000).to_bytes(2, "little") * 2  # left, top
    src.write_bytes(bytes(data))
    refused = refusal(src, tmp_path)
    assert refused.reason == "too_large"
    assert "60001\N{MULTIPLICATION SIGN}60001" in refused.message


def test_decoded_bytes_limit_refused(tmp_path: Path) -> None:
    """An image within the pixel limit but over the decoded-bytes limit is refused."""
    src = make.png(tmp_path / "a.png", make.picture((400, 300)))
    refused = refusal(src, tmp_path, max_decoded_bytes=100_000)
    assert refused.reason == "too_large"
    assert refused.message == ("The image would take 360,000 bytes to decode (400"
                               "\N{MULTIPLICATION SIGN}300 pixels, 3 bands, 1 frame); this "
                               "server accepts at most 100,000")


def test_heic_refused_as_unsupported(tmp_path: Path) -> None:
    """HEIC cannot be decoded here, so it cannot be cleaned: unsupported."""
    src = tmp_path / "a.heic"
    src.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100)
    refused = refusal(src, tmp_path)
    assert refused.reason == "unsupported"
    assert refused.message.startswith("HEIC images cannot be processed here")


@pytest.mark.parametrize(("content", "mime"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "application/x-executable"),
    (b"hello", "text/plain"),
])
def test_non_image_refused_as_unsupported(tmp_path: Path, content: bytes, mime: str) -> None:
    """Anything but JPEG/PNG/GIF/WebP/AVIF content is unsupported, naming what it is."""
    src = tmp_path / "file"
    src.write_bytes(content)
    refused = refusal(src, tmp_path)
    assert refused.reason == "unsupported"
    assert f"(its content is {mime})" in refused.message


def test_png_chunk_crc_mismatch_refused(tmp_path: Path) -> None:
    """A PNG whose chunk checksum does not match is corrupt, whichever chunk it is."""
    src = make.png(tmp_path / "a.png")
    data = bytearray(src.read_bytes())
    data[data.index(b"tEXt") + 6] ^= 0xFF
    src.write_bytes(bytes(data))
    refused = refusal(src, tmp_path)
    assert refused.message == ("The image is truncated or corrupt (PNG): the tEXt chunk is "
                               "damaged (CRC mismatch)")
