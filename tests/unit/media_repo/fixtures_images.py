"""Test files made on the spot: photos with EXIF and GPS, animations, bombs, damaged files and
tiny audio/video clips, so no binary file is committed.

Pictures come from Pillow; the bombs and the PNG too large to hold in memory are written chunk
by chunk; audio and video come from ffmpeg's lavfi test sources.
"""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

from PIL import ExifTags, Image, ImageCms, ImageDraw
from PIL.PngImagePlugin import PngInfo

GPS = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (52.0, 22.0, 7.5),
       ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (4.0, 53.0, 30.0)}
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
       b'22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" '
       b'dc:creator="Ann Author"/></rdf:RDF></x:xmpmeta>')


def exif_bytes(orientation: int = 1, *, gps: bool = True) -> bytes:
    """EXIF naming a camera and its owner, with GPS coordinates and ``orientation``."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Camera Maker"
    exif[ExifTags.Base.Artist] = "Ann Author"
    exif[ExifTags.Base.Orientation] = orientation
    if gps:
        exif[ExifTags.IFD.GPSInfo] = GPS
    return exif.tobytes()


def picture(size: tuple[int, int] = (64, 48), mode: str = "RGB", *, noise: bool = False,
            seed: int = 0) -> Image.Image:
    """A picture whose every corner differs (so turning it shows), optionally with noise
    (so it compresses like a photo)."""
    width, height = size
    red = Image.linear_gradient("L").resize(size)
    green = Image.linear_gradient("L").rotate(90).resize(size)
    blue = Image.radial_gradient("L").resize(size)
    if noise:
        blue = Image.effect_noise(size, 64 + seed)
    image = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, max(width // 4, 1), max(height // 4, 1)), fill=(255, 0, 0))
    if mode == "RGBA":
        image.putalpha(Image.linear_gradient("L").rotate(45).resize(size))
    return image.convert(mode) if image.mode != mode else image


def srgb_icc() -> bytes:
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def jpeg(path: Path, image: Image.Image | None = None, *, orientation: int = 1,
         metadata: bool = True, quality: int = 90, icc: bool = True) -> Path:
    """A JPEG with EXIF (GPS, orientation), XMP, a comment, IPTC (APP13) and a trailer."""
    image = image or picture()
    options: dict[str, object] = {"quality": quality}
    if icc:
        options["icc_profile"] = srgb_icc()
    if metadata:
        options.update(exif=exif_bytes(orientation), xmp=XMP, comment=b"shot at home")
    image.save(path, "JPEG", **options)
    if metadata:
        data = path.read_bytes()
        iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0c\x1c\x02\x50\x00\x08Ann Auth"
        app13 = b"\xff\xed" + struct.pack(">H", len(iptc) + 2) + iptc
        path.write_bytes(data[:2] + app13 + data[2:] + b"TRAILER-with-secrets")
    return path


def png(path: Path, image: Image.Image | None = None, *, orientation: int = 1,
        metadata: bool = True) -> Path:
    """A PNG with eXIf (GPS, orientation), tEXt, zTXt, iTXt (XMP) and tIME chunks."""
    image = image or picture()
    if not metadata:
        image.save(path, "PNG")
        return path
    info = PngInfo()
    info.add_text("Author", "Ann Author")
    info.add_text("Comment", "shot at home", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add(b"tIME", struct.pack(">HBBBBB", 2024, 5, 1, 12, 0, 0))
    image.save(path, "PNG", pnginfo=info, exif=exif_bytes(orientation))
    return path


def frames(count: int = 4, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> list[
        Image.Image]:
    """Frames that differ from one another (a moving bar)."""
    out = []
    for index in range(count):
        frame = picture(size, mode)
        ImageDraw.Draw(frame).rectangle((index * 5, 10, index * 5 + 4, 20), fill=(0, 0, 255)
                                        if mode == "RGB" else (0, 0, 255, 255))
        out.append(frame)
    return out


def gif(path: Path, *, count: int = 4, metadata: bool = True, transparent: bool = False) -> Path:
    """A GIF (animated when ``count`` > 1, looping forever) with a comment and an XMP packet."""
    pictures = [f.convert("P", palette=Image.Palette.ADAPTIVE) for f in frames(count)]
    options: dict[str, object] = {"save_all": True, "append_images": pictures[1:],
                                  "duration": [80, 120, 80, 120][:count] + [80] * (count - 4),
                                  "loop": 0}
    if transparent:
        options["transparency"] = 0
    if metadata:
        options["comment"] = b"shot at home"
    pictures[0].save(path, "GIF", **options)
    if metadata:
        data = path.read_bytes()
        trailer = bytes([1]) + bytes(range(255, -1, -1)) + b"\x00"  # XMP's "magic trailer"
        xmp = b"\x21\xff\x0bXMP DataXMP" + XMP + trailer
        at = data.index(b"\x21\xff\x0bNETSCAPE2.0")
        path.write_bytes(data[:at] + xmp + data[at:])
    return path


def webp(path: Path, *, count: int = 1, orientation: int = 1, metadata: bool = True,
         lossless: bool = False, mode: str = "RGB") -> Path:
    """A WebP (animated when ``count`` > 1) with EXIF (GPS, orientation), XMP and ICC."""
    options: dict[str, object] = {"lossless": lossless, "quality": 90,
                                  "icc_profile": srgb_icc()}
    if metadata:
        options.update(exif=exif_bytes(orientation), xmp=XMP)
    if count > 1:
        pictures = frames(count, mode=mode)
        options.update(save_all=True, append_images=pictures[1:], duration=[70] * count,
                       loop=0)
        pictures[0].save(path, "WEBP", **options)
    else:
        picture(mode=mode).save(path, "WEBP", **options)
    return path


def avif(path: Path, *, orientation: int = 1, mode: str = "RGB") -> Path:
    """An AVIF with EXIF (GPS, orientation) and XMP."""
    picture(mode=mode).save(path, "AVIF", exif=exif_bytes(orientation), xmp=XMP, quality=90,
                            speed=9)
    return path


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims ``width`` by ``height`` (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat)
                     + _chunk(b"IEND", b""))
    return path


def flat_png(path: Path, width: int, height: int) -> Path:
    """A real, fully decodable RGB PNG of one colour, written row by row (small on disk)."""
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x80\x40\x20" * width
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body)
                     + _chunk(b"IEND", b""))
    return path


def gif_many_frames(path: Path, *, width: int, height: int, count: int) -> Path:
    """A small file: a ``width`` by ``height`` canvas with ``count`` one-pixel frames."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00" * 6
    frame = (b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms
             + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00")
    path.write_bytes(header + frame * count + b";")
    return path


def truncated(source: Path, path: Path, keep: float = 0.6) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    return path


def damaged(source: Path, path: Path, at: int, junk: bytes = b"\x00\x13\x37" * 8) -> Path:
    """``source`` with ``junk`` written over it at byte ``at`` (negative: from the end)."""
    data = bytearray(source.read_bytes())
    start = at if at >= 0 else len(data) + at
    data[start:start + len(junk)] = junk
    path.write_bytes(bytes(data))
    return path


# Audio and video: (ffmpeg output options, file name) per case; one tenth of a second each.
_VIDEO = ["-f", "lavfi", "-i", "testsrc=size=32x32:rate=10:duration=0.3"]
_AUDIO = ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.3"]
CLIPS: dict[str, tuple[list[str], str]] = {
    "mp4": ([*_VIDEO, *_AUDIO, "-c:v", "libx264", "-c:a", "aac", "-movflags", "+faststart"],
            "clip.mp4"),
    "mov": ([*_VIDEO, "-c:v", "libx264", "-f", "mov"], "clip.mov"),
    "m4a": ([*_AUDIO, "-c:a", "aac", "-f", "ipod"], "clip.m4a"),
    "mp4-audio": ([*_AUDIO, "-c:a", "aac", "-f", "mp4"], "audio.mp4"),
    "webm": ([*_VIDEO, "-c:v", "libvpx", "-f", "webm"], "clip.webm"),
    "webm-audio": ([*_AUDIO, "-c:a", "libopus", "-f", "webm"], "audio.webm"),
    "mkv": ([*_VIDEO, "-c:v", "libx264", "-f", "matroska"], "clip.mkv"),
    "ogg-opus": ([*_AUDIO, "-c:a", "libopus", "-f", "ogg"], "clip.opus"),
    "ogg-vorbis": ([*_AUDIO, "-c:a", "libvorbis", "-f", "ogg"], "clip.ogg"),
    "ogg-theora": ([*_VIDEO, "-c:v", "libtheora", "-f", "ogg"], "clip.ogv"),
    "mp3": ([*_AUDIO, "-c:a", "libmp3lame", "-f", "mp3"], "clip.mp3"),
    "mp3-bare": ([*_AUDIO, "-c:a", "libmp3lame", "-write_xing", "0", "-id3v2_version", "0",
                  "-f", "mp3"], "bare.mp3"),
    "wav": ([*_AUDIO, "-f", "wav"], "clip.wav"),
    "flac": ([*_AUDIO, "-f", "flac"], "clip.flac"),
}


def clip(folder: Path, name: str) -> Path:
    """The clip ``name`` of :data:`CLIPS`, made with ffmpeg in ``folder``."""
    options, filename = CLIPS[name]
    path = folder / filename
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *options, str(path)],
                   check=True, timeout=60)
    return path
