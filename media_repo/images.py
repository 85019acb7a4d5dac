"""Image checks, metadata stripping and thumbnails; the functions run only in the sandboxed worker.

Decoding a hostile image can eat memory or time, so nothing here runs in Synapse's process:
``image_worker`` calls these functions in a child with resource limits (``sandbox.py``), and
the limits bound whatever slips past the checks made here.

:func:`clean_image` refuses files that do not decode completely (``malformed``) and bombs
(pixel count, or decoded bytes with every frame counted, read from the headers before any pixel
is decoded: ``too_large``). It then removes what a photo says about its author (EXIF with GPS,
XMP, IPTC, comments, text chunks): losslessly, by rewriting the container around untouched
pixel data, when the picture needs no turning; when EXIF orientation says it must be turned, it
is turned and re-encoded in its own format, so every client shows it the same way. AVIF is
always re-encoded (its metadata lives in item boxes that are not cut out here).

:func:`make_thumbnail` follows Synapse's sizing rules (``scale`` fits inside, never enlarging;
``crop`` fills and centres) and, when asked, keeps the animation of animated GIF, WebP and APNG
sources (the ones Synapse animates) in GIF or WebP output.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

import blurhash
from PIL import Image, ImageFile, JpegImagePlugin, UnidentifiedImageError

from hearth.media_repo import sniff

RefusalReason = Literal["malformed", "too_large", "unsupported"]
Method = Literal["crop", "scale"]
ThumbnailFormat = Literal["jpeg", "png", "webp", "avif", "gif"]

# Pillow's format name and the name people know, by the MIME type read from the content.
_FORMATS = {"image/jpeg": ("JPEG", "JPEG"), "image/png": ("PNG", "PNG"),
            "image/gif": ("GIF", "GIF"), "image/webp": ("WEBP", "WebP"),
            "image/avif": ("AVIF", "AVIF")}
_PILLOW_FORMATS = [name for name, _ in _FORMATS.values()]
_LOSSLESS = frozenset({"JPEG", "PNG", "GIF", "WEBP"})
# What Pillow's decoders raise on bad data (RuntimeError: the AVIF decoder's failures).
_DECODE_ERRORS = (OSError, SyntaxError, EOFError, ValueError, RuntimeError, struct.error,
                  zlib.error, IndexError, KeyError)
_ORIENTATION = 0x0112
_BY = "\N{MULTIPLICATION SIGN}"  # 40000x40000, written as people write it
BLURHASH_SIDE = 32  # blurhash is computed from a downscale no larger than this


class ImageRefused(Exception):
    """The image is not accepted; ``reason`` is ``malformed``, ``too_large`` or ``unsupported``."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(message)
        self.reason: RefusalReason = reason
        self.message = message


@dataclass(frozen=True)
class ImageInfo:
    """A cleaned image. ``rewritten``: the cleaned file differs from the upload (metadata was
    removed or the pixels re-encoded); ``stripped`` names what was removed."""

    mime: str
    width: int
    height: int
    animated: bool
    frames: int
    blurhash: str
    rewritten: bool
    stripped: tuple[str, ...]


@dataclass(frozen=True)
class ThumbnailInfo:
    mime: str
    width: int
    height: int
    animated: bool


@dataclass
class _Container:
    """The file rebuilt without its metadata, and what was found on the way."""

    data: bytes
    removed: list[str] = field(default_factory=list)
    exif: bytes | None = None
    frames: int | None = None
    canvas: tuple[int, int] | None = None  # GIF frames may reach past the declared screen


def _corrupt(label: str, detail: str) -> ImageRefused:
    return ImageRefused("malformed", f"The image is truncated or corrupt ({label}): {detail}")


# --- JPEG: a sequence of marker segments; the entropy-coded scans are copied as they are.

_JPEG_KEEP = {0xE0: b"JFIF\x00", 0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}
_JPEG_NAMES = ((0xE1, b"Exif\x00\x00", "exif"), (0xE1, b"http://ns.adobe.com/xap/1.0/\x00", "xmp"),
               (0xE1, b"http://ns.adobe.com/xmp/extension/\x00", "xmp"), (0xE2, b"MPF\x00", "mpf"),
               (0xED, b"", "iptc"), (0xFE, b"", "comment"))


def _jpeg_label(marker: int, payload: bytes) -> str | None:
    """None to keep the segment, else the name of what it holds."""
    if marker in _JPEG_KEEP and payload.startswith(_JPEG_KEEP[marker]):
        return None
    for name_marker, prefix, name in _JPEG_NAMES:
        if marker == name_marker and payload.startswith(prefix):
            return name
    if 0xE0 <= marker <= 0xEF:
        return f"app{marker - 0xE0}"
    return f"jpeg:0x{marker:02x}" if 0xF0 <= marker <= 0xFD else None  # reserved: hidden data


def _scan_end(data: bytes, at: int) -> int:
    """Where the entropy-coded data starting at ``at`` ends: the next real marker."""
    while True:
        at = data.find(b"\xff", at)
        if at < 0 or at + 1 >= len(data):
            raise _corrupt("JPEG", "the image data is cut short (no end-of-image marker)")
        following = data[at + 1]
        if following == 0xFF:
            at += 1
        elif following == 0 or 0xD0 <= following <= 0xD7:  # stuffed byte, restart marker
            at += 2
        else:
            return at


def _strip_jpeg(data: bytes) -> _Container:
    out = _Container(b"")
    parts = [b"\xff\xd8"]
    at, frame_seen = 2, False
    while True:
        if at >= len(data) or data[at] != 0xFF:
            raise _corrupt("JPEG", f"a marker was expected at byte {at}")
        while at < len(data) and data[at] == 0xFF:
            at += 1
        if at >= len(data):
            raise _corrupt("JPEG", "the file ends inside a marker")
        marker = data[at]
        at += 1
        if marker == 0xD9:
            parts.append(b"\xff\xd9")
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            parts.append(bytes((0xFF, marker)))
            continue
        if marker in (0x00, 0xD8) or at + 2 > len(data):
            raise _corrupt("JPEG", f"unexpected marker 0xff{marker:02x} at byte {at - 1}")
        length = int.from_bytes(data[at:at + 2], "big")
        if length < 2 or at + length > len(data):
            raise _corrupt("JPEG", f"the segment at byte {at - 2} runs past the end of the file")
        payload = data[at + 2:at + length]
        frame_seen |= 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC)
        label = _jpeg_label(marker, payload)
        if label is None:
            parts.append(data[at - 2:at + length])
        else:
            out.removed.append(label)
            if label == "exif" and out.exif is None:
                out.exif = payload
        at += length
        if marker == 0xDA:
            if not frame_seen:
                raise _corrupt("JPEG", "image data comes before the frame header")
            end = _scan_end(data, at)
            parts.append(data[at:end])
            at = end
    if at < len(data):
        out.removed.append("trailer")  # data after the image (second pictures, vendor blobs)
    out.data = b"".join(parts)
    return out


# --- PNG: chunks with CRCs; only the chunks that shape the pixels are kept.

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEEP = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB",
                       b"iCCP", b"cICP", b"mDCV", b"cLLI", b"mDCv", b"cLLi", b"sBIT", b"bKGD",
                       b"pHYs", b"acTL", b"fcTL", b"fdAT"})
_PNG_NAMES = {b"eXIf": "exif", b"tEXt": "text", b"zTXt": "text", b"iTXt": "text",
              b"tIME": "time"}


def _strip_png(data: bytes) -> _Container:
    out = _Container(b"")
    parts = [_PNG_SIGNATURE]
    at = len(_PNG_SIGNATURE)
    while True:
        if at + 8 > len(data):
            raise _corrupt("PNG", "the file ends before its IEND chunk")
        length, kind = struct.unpack_from(">I4s", data, at)
        end = at + 12 + length
        name = kind.decode("latin-1")
        if end > len(data):
            raise _corrupt("PNG", f"the {name} chunk is cut short")
        body = data[at + 8:at + 8 + length]
        if zlib.crc32(kind + body) != int.from_bytes(data[end - 4:end], "big"):
            raise _corrupt("PNG", f"the {name} chunk is damaged (CRC mismatch)")
        if at == len(_PNG_SIGNATURE) and kind != b"IHDR":
            raise _corrupt("PNG", "the first chunk is not IHDR")
        if kind in _PNG_KEEP:
            parts.append(data[at:end])
        elif kind[0] & 0x20 == 0:  # an unknown critical chunk: no decoder may skip it
            raise _corrupt("PNG", f"unknown critical chunk {name}")
        else:
            xmp = kind == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\x00")
            out.removed.append("xmp" if xmp else _PNG_NAMES.get(kind, f"png:{name}"))
        if kind == b"eXIf" and out.exif is None:
            out.exif = body
        if kind == b"acTL" and length >= 4:
            out.frames = int.from_bytes(body[:4], "big")
        at = end
        if kind == b"IEND":
            break
    if at < len(data):
        out.removed.append("trailer")
    out.data = b"".join(parts)
    return out


# --- GIF: blocks and extensions; comments and application data other than looping go.

_GIF_APPS_KEPT = (b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012")


def _sub_blocks_end(data: bytes, at: int) -> int:
    while True:
        if at >= len(data):
            raise _corrupt("GIF", "a data block is cut short")
        size = data[at]
        at += 1 + size
        if size == 0:
            return at


def _strip_gif(data: bytes) -> _Container:
    if len(data) < 13:
        raise _corrupt("GIF", "the header is cut short")
    packed = data[10]
    at = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    width, height = struct.unpack_from("<HH", data, 6)
    out = _Container(b"", frames=0)
    parts = [data[:at]]
    while True:
        if at >= len(data):
            raise _corrupt("GIF", "the file ends before its trailer")
        block = data[at]
        if block == 0x3B:
            parts.append(b";")
            at += 1
            break
        if block == 0x21 and at + 2 <= len(data):
            end = _sub_blocks_end(data, at + 2)
            label = data[at + 1]
            app = data[at + 3:at + 14] if label == 0xFF else b""
            if label == 0xFE:
                out.removed.append("comment")
            elif label == 0xFF and not app.startswith(_GIF_APPS_KEPT):
                out.removed.append("xmp" if app.startswith(b"XMP Data") else
                                   f"gif:{app.decode('latin-1').strip()}")
            else:
                parts.append(data[at:end])
        elif block == 0x2C and at + 11 <= len(data):
            left, top, frame_width, frame_height, local = struct.unpack_from("<HHHHB", data,
                                                                             at + 1)
            width, height = max(width, left + frame_width), max(height, top + frame_height)
            start = at + 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            end = _sub_blocks_end(data, start + 1)
            parts.append(data[at:end])
            out.frames = (out.frames or 0) + 1
        else:
            raise _corrupt("GIF", f"unexpected byte 0x{block:02x} at {at}")
        at = end
    if not out.frames:
        raise _corrupt("GIF", "it holds no picture")
    out.canvas = width, height
    if at < len(data):
        out.removed.append("trailer")
    out.data = b"".join(parts)
    return out


# --- WebP: a RIFF list of chunks; EXIF and XMP chunks go and VP8X's flags follow.

_WEBP_KEEP = frozenset({b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"})
_WEBP_EXIF_FLAG, _WEBP_XMP_FLAG = 0x08, 0x04


def _strip_webp(data: bytes) -> _Container:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise _corrupt("WebP", "the RIFF header is damaged")
    body_end = 8 + int.from_bytes(data[4:8], "little")
    if body_end > len(data):
        raise _corrupt("WebP", f"the file is cut short ({len(data):,} of {body_end:,} bytes)")
    out = _Container(b"", frames=0)
    chunks: list[bytes] = []
    at = 12
    while at < body_end:
        if at + 8 > body_end:
            raise _corrupt("WebP", f"a chunk header is cut short at byte {at}")
        kind, size = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "little")
        end = at + 8 + size + (size & 1)
        if at + 8 + size > body_end:
            raise _corrupt("WebP", f"the {kind.decode('latin-1')} chunk is cut short")
        if kind in _WEBP_KEEP:
            chunks.append(data[at:min(end, body_end)])
        else:
            label = {b"EXIF": "exif", b"XMP ": "xmp"}.get(kind)
            out.removed.append(label or f"webp:{kind.decode('latin-1').strip()}")
            if kind == b"EXIF" and out.exif is None:
                out.exif = data[at + 8:at + 8 + size]
        out.frames = (out.frames or 0) + (kind == b"ANMF")
        at = end
    if not chunks:
        raise _corrupt("WebP", "it holds no picture")
    if chunks[0][:4] == b"VP8X" and len(chunks[0]) >= 9:
        flags = chunks[0][8] & ~(_WEBP_EXIF_FLAG | _WEBP_XMP_FLAG)
        chunks[0] = chunks[0][:8] + bytes((flags,)) + chunks[0][9:]
    out.frames = out.frames or 1
    if body_end < len(data):
        out.removed.append("trailer")
    payload = b"WEBP" + b"".join(chunks)
    out.data = b"RIFF" + len(payload).to_bytes(4, "little") + payload
    return out


_STRIPPERS = {"JPEG": _strip_jpeg, "PNG": _strip_png, "GIF": _strip_gif, "WEBP": _strip_webp}


# --- Decoding and checks


def _too_many_pixels(size: tuple[int, int], max_pixels: int) -> ImageRefused:
    return ImageRefused("too_large", f"The image is {size[0]}{_BY}{size[1]} pixels; this server "
                        f"accepts at most {max_pixels:,}")


def _open(data: bytes, fmt: str, label: str, max_pixels: int) -> ImageFile.ImageFile:
    """Open (headers only) with Pillow's own bomb guard set to ``max_pixels``."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError:
        Image.MAX_IMAGE_PIXELS = None  # read the header again, for the message only
        try:
            size = Image.open(BytesIO(data), formats=[fmt]).size
        finally:
            Image.MAX_IMAGE_PIXELS = max_pixels
        raise _too_many_pixels(size, max_pixels) from None
    except UnidentifiedImageError:
        raise _corrupt(label, "its header cannot be read") from None
    except _DECODE_ERRORS as e:
        raise _corrupt(label, str(e) or type(e).__name__) from None
    return image


def _check_size(size: tuple[int, int], bands: int, frames: int, max_pixels: int,
                max_bytes: int) -> None:
    """Refuse a bomb: too many pixels, or too many bytes once every frame is decoded."""
    width, height = size
    if width * height > max_pixels:
        raise _too_many_pixels(size, max_pixels)
    decoded = width * height * bands * frames
    if decoded > max_bytes:
        raise ImageRefused(
            "too_large", f"The image would take {decoded:,} bytes to decode ({width}{_BY}"
            f"{height} pixels, {bands} bands, {frames} frame{'s' if frames > 1 else ''}); this "
            f"server accepts at most {max_bytes:,}")


def _orientation(exif: bytes | None) -> int:
    if not exif:
        return 1
    parsed = Image.Exif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # damaged EXIF: Pillow warns, skipping tags
            parsed.load(exif)
    except _DECODE_ERRORS:
        return 1  # unreadable EXIF turns nothing in a viewer either; it is removed anyway
    value = parsed.get(_ORIENTATION, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _frames(image: Image.Image, count: int, start: int = 0) -> Iterator[Image.Image]:
    """Each frame of ``image`` in turn, decoded (the same object, moved on)."""
    for index in range(start, count):
        image.seek(index)
        image.load()
        yield image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, transparent parts on white."""
    if not _has_alpha(image):
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    white = Image.new("RGB", rgba.size, "white")
    white.paste(rgba, mask=rgba.getchannel("A"))
    return white


def _blurhash(image: Image.Image, orientation: int) -> str:
    scale = max(image.width, image.height) / BLURHASH_SIDE
    size = image.size if scale <= 1 else (max(1, round(image.width / scale)),
                                          max(1, round(image.height / scale)))
    small = _transpose(_flatten(image.resize(size, Image.Resampling.BOX, reducing_gap=2.0)),
                       orientation)
    pixels = small.get_flattened_data()
    rows = [pixels[y * small.width:(y + 1) * small.width] for y in range(small.height)]
    return str(blurhash.encode(rows, 4, 3))


_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}


def _transpose(image: Image.Image, orientation: int) -> Image.Image:
    """``image`` as EXIF ``orientation`` says it is to be shown (for frames and previews)."""
    method = _TRANSPOSE.get(orientation)
    return image.transpose(method) if method is not None else image


def _kept_info(image: Image.Image) -> dict[str, Any]:
    return {key: image.info[key] for key in ("icc_profile", "transparency", "duration", "loop",
                                             "background") if key in image.info}


# --- Re-encoding (orientation to apply, or a format cleaned only by re-encoding)


def _save_options(source: ImageFile.ImageFile, fmt: str, data: bytes) -> dict[str, Any]:
    icc = source.info.get("icc_profile")
    options: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        sampling = JpegImagePlugin.get_sampling(source)
        options.update(quality=92, subsampling=sampling if sampling >= 0 else 2)
    elif fmt == "WEBP":
        lossless = b"VP8L" in data[12:4096] and b"VP8 " not in data[12:4096]
        options.update(lossless=lossless, quality=92 if not lossless else 100)
    elif fmt == "AVIF":
        options.update(quality=90, speed=8)
    return options


def _reencode(image: ImageFile.ImageFile, frames: int, fmt: str, data: bytes, dst: Path,
              orientation: int) -> tuple[int, int]:
    """Write ``image`` (opened from metadata-free bytes) turned by ``orientation``."""
    options = _save_options(image, fmt, data)
    kept = _kept_info(image)
    if frames == 1:
        image.load()
        turned = _transpose(image, orientation)
        if turned is image:
            turned = image.copy()
        turned.info.clear()
        turned.info.update(kept)
        turned.save(dst, fmt, **options)
        return turned.size
    pictures: list[Image.Image] = []
    durations: list[int] = []
    for frame in _frames(image, frames):
        pictures.append(_transpose(frame.convert("RGBA"), orientation))
        durations.append(int(frame.info.get("duration", 100)))
    first = pictures[0]
    first.info.clear()
    first.info.update({key: kept[key] for key in ("loop", "background") if key in kept})
    first.save(dst, fmt, save_all=True, append_images=pictures[1:], duration=durations,
               **options)
    return first.size


def clean_image(src: Path, dst: Path, *, max_pixels: int, max_decoded_bytes: int) -> ImageInfo:
    """Check ``src`` and write it to ``dst`` without metadata; :class:`ImageRefused` if not."""
    data = src.read_bytes()
    mime = sniff.detect(data[:65536], None, len(data)).mime
    if mime not in _FORMATS:
        what = "HEIC images cannot" if mime == "image/heic" else \
            f"The file is not an image that can (its content is {mime})"
        raise ImageRefused("unsupported", f"{what} be processed here; send JPEG, PNG, GIF, "
                           "WebP or AVIF")
    fmt, label = _FORMATS[mime]
    try:
        container = _STRIPPERS[fmt](data) if fmt in _STRIPPERS else None
    except (struct.error, IndexError, ValueError) as e:  # a walker read past what is there
        raise _corrupt(label, str(e)) from None
    # What is decoded is what is kept: the container without its metadata.
    image = _open(container.data if container else data, fmt, label, max_pixels)
    frames = container.frames if container and container.frames else \
        int(getattr(image, "n_frames", 1))
    canvas = container.canvas if container and container.canvas else image.size
    _check_size(canvas, len(image.getbands()), frames, max_pixels, max_decoded_bytes)
    exif = container.exif if container else image.info.get("exif")
    orientation = _orientation(exif)
    lossless = container is not None and fmt in _LOSSLESS and orientation == 1
    size = image.size
    try:
        if lossless and fmt == "JPEG":
            image.draft(None, (1, 1))  # every scan is still decoded, at 1/8 scale: fast
        hashed = _blurhash(next(_frames(image, 1)), orientation)
        if container is not None and lossless:
            for _ in _frames(image, frames, start=1):
                pass  # every frame must decode
            dst.write_bytes(container.data)
            rewritten, removed = container.data != data, container.removed
        else:
            removed = container.removed if container else \
                [key for key in ("exif", "xmp") if image.info.get(key)]
            size = _reencode(image, frames, fmt, data, dst, orientation)
            rewritten = True
    except _DECODE_ERRORS as e:
        raise _corrupt(label, str(e) or type(e).__name__) from None
    return ImageInfo(mime, size[0], size[1], frames > 1, frames, hashed, rewritten,
                     tuple(sorted(set(removed))))


# --- Thumbnails, sized as Synapse sizes them (synapse/media/thumbnailer.py)


def _scaled_size(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """The largest size inside the box that keeps the aspect ratio, never larger than the source."""
    if max_width * height < max_height * width:
        size = max_width, max(max_width * height // width, 1)
    else:
        size = max(max_height * width // height, 1), max_height
    return min(width, size[0]), min(height, size[1])


def _crop_plan(width: int, height: int, out_width: int, out_height: int) -> tuple[
        tuple[int, int], tuple[int, int, int, int]]:
    """The size to scale to and the centred box to cut, to fill ``out_width`` by ``out_height``."""
    if out_width * height > out_height * width:
        scaled = out_width, out_width * height // width
        top = (scaled[1] - out_height) // 2
        return scaled, (0, top, out_width, top + out_height)
    scaled = out_height * width // height, out_height
    left = (scaled[0] - out_width) // 2
    return scaled, (left, 0, left + out_width, out_height)


# Animations Synapse keeps in thumbnails (Pillow calls MPO stereo pairs multi-frame too).
_ANIMATED = frozenset({"GIF", "PNG", "WEBP"})
_THUMBNAIL_SAVE: dict[str, tuple[str, dict[str, Any]]] = {
    "jpeg": ("JPEG", {"quality": 80}),
    "png": ("PNG", {}),
    "webp": ("WEBP", {"quality": 80}),
    "avif": ("AVIF", {"quality": 60, "speed": 8}),
    "gif": ("GIF", {}),
}


def make_thumbnail(src: Path, dst: Path, *, width: int, height: int, method: Method,
                   fmt: ThumbnailFormat, animated: bool) -> ThumbnailInfo:
    """Write a ``width`` by ``height`` thumbnail of ``src`` to ``dst`` in ``fmt``."""
    try:
        image = Image.open(src, formats=_PILLOW_FORMATS)
    except UnidentifiedImageError:
        raise ImageRefused("unsupported", "Thumbnails are made only of JPEG, PNG, GIF, WebP "
                           "and AVIF images") from None
    except Image.DecompressionBombError as e:
        raise ImageRefused("too_large", f"The image is too large to thumbnail: {e}") from None
    except _DECODE_ERRORS as e:
        raise _corrupt("image", str(e) or type(e).__name__) from None
    orientation = _orientation(image.info.get("exif"))
    turned = orientation in (5, 6, 7, 8)
    source = (image.height, image.width) if turned else image.size
    if method == "scale":
        size, box = _scaled_size(*source, width, height), None
    else:
        size, crop = _crop_plan(*source, width, height)
        box = crop
    moving = (animated and fmt in ("gif", "webp") and image.format in _ANIMATED
              and bool(getattr(image, "is_animated", False)))
    frames = int(getattr(image, "n_frames", 1)) if moving else 1
    try:
        if image.format == "JPEG":
            image.draft(None, (size[1], size[0]) if turned else size)
        pictures, durations = [], []
        for frame in _frames(image, frames):
            picture = frame.convert("RGBA" if _has_alpha(frame) else "RGB")
            picture = _transpose(picture, orientation).resize(size, Image.Resampling.LANCZOS,
                                                              reducing_gap=3.0)
            pictures.append(picture.crop(box) if box else picture)
            durations.append(int(frame.info.get("duration", image.info.get("duration", 100))))
    except _DECODE_ERRORS as e:
        raise _corrupt(image.format or "image", str(e) or type(e).__name__) from None
    pil_format, options = _THUMBNAIL_SAVE[fmt]
    first = pictures[0] if fmt != "jpeg" else _flatten(pictures[0])
    if moving:
        loop = image.info.get("loop", 0)  # as Synapse: no loop count means loop forever
        options = {**options, "save_all": True, "append_images": pictures[1:],
                   "duration": durations, "loop": loop if isinstance(loop, int) else 0}
        if fmt == "gif":
            options["disposal"] = 2  # every frame is a whole picture
    first.save(dst, pil_format, **options)
    return ThumbnailInfo(Image.MIME[pil_format], first.width, first.height, moving)
