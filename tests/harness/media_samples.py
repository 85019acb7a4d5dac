"""Real media files for the integration tests and benchmarks, made on the fly (none committed).

Images come from Pillow, video and audio from ffmpeg's test sources, the rest is written by
hand to the formats' own layouts (a PNG decompression bomb, an ELF header, a PDF).
"""

from __future__ import annotations

import functools
import io
import os
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(width: int = 64, height: int = 32, orientation: int = 1) -> bytes:
    """A JPEG carrying EXIF with a GPS position, a camera model and an orientation."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    for x in range(width // 2):
        for y in range(height):
            image.putpixel((x, y), (20, 40, 220))  # left half blue: orientation is visible
    exif = Image.Exif()
    exif[0x0110] = "HearthCam 1"  # Model
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=90)
    return buffer.getvalue()


def still(fmt: str, width: int = 48, height: int = 40) -> bytes:
    """A small still image in ``fmt`` (PNG, GIF, WEBP, AVIF, JPEG)."""
    buffer = io.BytesIO()
    mode = "RGBA" if fmt in ("PNG", "WEBP", "AVIF") else "RGB"
    Image.new(mode, (width, height), (10, 120, 200, 255)).save(buffer, fmt)
    return buffer.getvalue()


def animated(fmt: str, frames: int = 4, size: int = 40) -> bytes:
    """An animated GIF or WebP of ``frames`` frames of different colours."""
    images = [Image.new("RGB", (size, size), (60 * i % 256, 100, 200)) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, fmt, save_all=True, append_images=images[1:], duration=100, loop=0)
    return buffer.getvalue()


def png_bomb(side: int = 30_000) -> bytes:
    """A valid 1-bit PNG of side x side pixels (900 M pixels) that is about 100 KB on disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
            + chunk(b"IEND", b""))


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: max(16, int(len(data) * keep))]


def elf_binary() -> bytes:
    """The start of a 64-bit Linux executable."""
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + struct.pack("<HHI", 2, 0x3E, 1) + os.urandom(400)


def html_page() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def svg_image() -> bytes:
    return (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
            b'height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>')


def pdf_document() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]"
            b"/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _ffmpeg(args: list[str], suffix: str) -> bytes:
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / f"sample{suffix}"
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args, str(out)],
                       check=True, timeout=300)
        return out.read_bytes()


@functools.cache
def mp4_video(seconds: int = 2, size: str = "320x240") -> bytes:
    """An H.264 + AAC MP4 from ffmpeg's test sources."""
    return _ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                    "-movflags", "+faststart"], ".mp4")


@functools.cache
def webm_video(seconds: int = 1) -> bytes:
    """A VP9 + Opus WebM."""
    return _ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size=160x120:rate=15:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}",
                    "-c:v", "libvpx-vp9", "-b:v", "200k", "-c:a", "libopus", "-shortest"],
                   ".webm")


@functools.cache
def ogg_voice(seconds: int = 1) -> bytes:
    """An Opus voice message in Ogg, as Element records them."""
    return _ffmpeg(["-f", "lavfi", "-i", f"sine=frequency=500:duration={seconds}",
                    "-c:a", "libopus"], ".ogg")


@functools.cache
def mpeg2_video() -> bytes:
    """MPEG-2 video in Matroska: an allowed container with a codec outside the allow-list."""
    return _ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=1",
                    "-c:v", "mpeg2video", "-f", "matroska"], ".mkv")
