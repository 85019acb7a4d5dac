"""What a file is, read from its first bytes; the declared Content-Type is only compared with it.

An upload's Content-Type is whatever the client says, so a program named ``cat.png`` or an
HTML page sent as ``image/jpeg`` would pass a type check that trusts it. :func:`detect` reads
magic numbers and container headers (ISO-BMFF boxes, EBML elements, Ogg pages, RIFF forms) from
the head of the file, says which family the content belongs to, and whether the declared type
names a different family (``disguised``). Bytes that match nothing are ``opaque``: that is what
an end-to-end encrypted attachment looks like.

Short magic numbers are confirmed by a second structure (an MPEG frame that follows the first,
a PE header that ``MZ`` points at, a BMP header whose sizes add up) so random bytes are not
mistaken for them.
"""

from __future__ import annotations

import codecs
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["image", "video", "audio", "document", "text", "archive", "executable", "opaque"]
OPAQUE = "application/octet-stream"


@dataclass(frozen=True)
class Detected:
    """The content's type; ``declared`` as sent (normalised), and whether it lied."""

    mime: str
    kind: Kind
    declared: str | None
    disguised: bool


_Found = tuple[str, Kind]
_Sniffer = Callable[[bytes, int], "_Found | None"]


def _fixed(head: bytes, _size: int) -> _Found | None:
    """Formats recognised by a fixed prefix long enough not to occur by chance."""
    for prefix, found in _PREFIXES:
        if head.startswith(prefix):
            return found
    return None


_PREFIXES: tuple[tuple[bytes, _Found], ...] = (
    (b"\x89PNG\r\n\x1a\n", ("image/png", "image")),
    (b"GIF87a", ("image/gif", "image")),
    (b"GIF89a", ("image/gif", "image")),
    (b"II*\x00", ("image/tiff", "image")),
    (b"MM\x00*", ("image/tiff", "image")),
    (b"II+\x00", ("image/tiff", "image")),
    (b"MM\x00+", ("image/tiff", "image")),
    (b"fLaC", ("audio/flac", "audio")),
    (b"%PDF-", ("application/pdf", "document")),
    (b"PK\x03\x04", ("application/zip", "archive")),  # also docx/xlsx/odt/jar/apk
    (b"PK\x05\x06", ("application/zip", "archive")),
    (b"PK\x07\x08", ("application/zip", "archive")),
    (b"7z\xbc\xaf\x27\x1c", ("application/x-7z-compressed", "archive")),
    (b"Rar!\x1a\x07\x00", ("application/vnd.rar", "archive")),
    (b"Rar!\x1a\x07\x01\x00", ("application/vnd.rar", "archive")),
    (b"\xfd7zXZ\x00", ("application/x-xz", "archive")),
    (b"\x28\xb5\x2f\xfd", ("application/zstd", "archive")),
    (b"\x7fELF", ("application/x-executable", "executable")),
    (b"\xfe\xed\xfa\xce", ("application/x-mach-binary", "executable")),
    (b"\xfe\xed\xfa\xcf", ("application/x-mach-binary", "executable")),
    (b"\xce\xfa\xed\xfe", ("application/x-mach-binary", "executable")),
    (b"\xcf\xfa\xed\xfe", ("application/x-mach-binary", "executable")),
    (b"\x00asm\x01\x00\x00\x00", ("application/wasm", "executable")),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ("application/x-ole-storage", "document")),
)


def _checked(head: bytes, size: int) -> _Found | None:
    """Formats with a short magic number, confirmed by the structure that follows it."""
    if head.startswith(b"\xff\xd8\xff") and len(head) > 3 and head[3] >= 0xC0:
        return "image/jpeg", "image"
    if head.startswith(b"\x1f\x8b\x08") and len(head) > 3 and head[3] & 0xE0 == 0:
        return "application/gzip", "archive"
    if re.match(rb"BZh[1-9]1AY&SY", head):
        return "application/x-bzip2", "archive"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "application/x-tar", "archive"
    if head.startswith(b"\xca\xfe\xba\xbe") and len(head) >= 8:
        count = struct.unpack_from(">I", head, 4)[0]  # Mach-O fat: arch count; Java: version
        return ("application/x-mach-binary" if 0 < count < 45 else "application/java-vm",
                "executable")
    if head.startswith(b"MZ") and _is_pe(head):
        return "application/x-msdownload", "executable"
    if head.startswith(b"BM") and _is_bmp(head, size):
        return "image/bmp", "image"
    return None


def _is_pe(head: bytes) -> bool:
    if len(head) < 0x40:
        return False
    offset = struct.unpack_from("<I", head, 0x3C)[0]
    return head[offset:offset + 4] == b"PE\x00\x00" or head[offset:offset + 2] in (b"NE", b"LE")


def _is_bmp(head: bytes, size: int) -> bool:
    if len(head) < 18:
        return False
    declared_size, pixels_at, dib_size = struct.unpack_from("<I4xII", head, 2)
    return (dib_size in (12, 16, 40, 52, 56, 64, 108, 124) and 14 + dib_size <= pixels_at
            and pixels_at <= max(size, len(head)) and declared_size > 0)


def _riff(head: bytes, _size: int) -> _Found | None:
    if not head.startswith(b"RIFF") or len(head) < 12:
        return None
    return _RIFF_FORMS.get(head[8:12])


_RIFF_FORMS: dict[bytes, _Found] = {b"WEBP": ("image/webp", "image"),
                                    b"WAVE": ("audio/wav", "audio"),
                                    b"AVI ": ("video/x-msvideo", "video")}


# ISO-BMFF (MP4, QuickTime, HEIF, AVIF): the ftyp box names the brands the file conforms to.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1",
                          b"msf1"})
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A "})
_3GP_BRANDS = frozenset({b"3gp4", b"3gp5", b"3gp6", b"3gg6", b"3ge6", b"3g2a"})
_QT_TOP_BOXES = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in data[start:end], cut at the head."""
    found = []
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1 and at + 16 <= end:
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:
            size = end - at
        if size < header:
            break
        found.append((kind, at + header, min(at + size, end)))
        at += size
    return found


def _handlers(head: bytes, moov: tuple[int, int]) -> set[bytes]:
    """The track handler types (``vide``, ``soun``) found in a moov box."""
    kinds = set()
    for trak in (b for b in _boxes(head, *moov) if b[0] == b"trak"):
        for mdia in (b for b in _boxes(head, trak[1], trak[2]) if b[0] == b"mdia"):
            for kind, start, end in _boxes(head, mdia[1], mdia[2]):
                if kind == b"hdlr" and end - start >= 12:
                    kinds.add(head[start + 8:start + 12])
    return kinds


def _isobmff(head: bytes, _size: int) -> _Found | None:
    if len(head) < 12:
        return None
    top = _boxes(head, 0, len(head))
    if not top:
        return None
    if top[0][0] != b"ftyp":
        # QuickTime before ftyp existed: a known first atom, and the movie or its data follows.
        if top[0][0] in _QT_TOP_BOXES and any(b[0] in (b"moov", b"mdat") for b in top):
            return "video/quicktime", "video"
        return None
    ftyp = top[0]
    major = head[ftyp[1]:ftyp[1] + 4]
    brands = {major} | {head[i:i + 4] for i in range(ftyp[1] + 8, ftyp[2] - 3, 4)}
    if brands & _AVIF_BRANDS:
        return "image/avif", "image"
    if major in _HEIC_BRANDS:
        return "image/heic", "image"
    if major == b"qt  ":
        return "video/quicktime", "video"
    if major in _AUDIO_BRANDS:
        return "audio/mp4", "audio"
    handlers = set().union(*(_handlers(head, (b[1], b[2])) for b in top if b[0] == b"moov"))
    if handlers and b"vide" not in handlers and b"soun" in handlers:
        return "audio/mp4", "audio"
    if major in _3GP_BRANDS:
        return "video/3gpp", "video"
    return "video/mp4", "video"


# Matroska / WebM: an EBML header naming the DocType, then Segment > Tracks > TrackType.
_EBML, _DOCTYPE, _SEGMENT, _TRACKS = 0x1A45DFA3, 0x4282, 0x18538067, 0x1654AE6B
_TRACK_ENTRY, _TRACK_TYPE, _CLUSTER = 0xAE, 0x83, 0x1F43B675


def _vint(data: bytes, at: int, *, marker: bool) -> tuple[int, int, bool] | None:
    """An EBML variable-size integer: (value, next offset, all data bits set)."""
    if at >= len(data) or data[at] == 0:
        return None
    length = 9 - data[at].bit_length()
    if at + length > len(data):
        return None
    value = data[at] if marker else data[at] & (0xFF >> length)
    for byte in data[at + 1:at + length]:
        value = value << 8 | byte
    return value, at + length, value == (1 << (7 * length)) - 1


def _elements(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """(id, payload start, payload end) of the EBML elements in data[start:end]."""
    found = []
    at = start
    while at < end:
        ident = _vint(data, at, marker=True)
        size = None if ident is None else _vint(data, ident[1], marker=False)
        if ident is None or size is None:
            break
        payload_end = end if size[2] else min(size[1] + size[0], end)
        found.append((ident[0], size[1], payload_end))
        if size[2]:
            break  # unknown size: only a master element (the Segment) may be open-ended
        at = payload_end
    return found


def _track_types(head: bytes, start: int, end: int) -> set[int]:
    """The TrackType of each track (1 video, 2 audio) in a Segment's Tracks element."""
    types: set[int] = set()
    for ident, child_start, child_end in _elements(head, start, end):
        if ident == _CLUSTER:
            break
        if ident == _TRACKS:
            for entry in _elements(head, child_start, child_end):
                if entry[0] == _TRACK_ENTRY:
                    types |= {int.from_bytes(head[s:e], "big") for i, s, e in
                              _elements(head, entry[1], entry[2]) if i == _TRACK_TYPE}
    return types


def _ebml(head: bytes, _size: int) -> _Found | None:
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    top = _elements(head, 0, len(head))
    doctype = b""
    if top and top[0][0] == _EBML:
        doctype = next((head[s:e].rstrip(b"\x00") for i, s, e in
                        _elements(head, top[0][1], top[0][2]) if i == _DOCTYPE), b"")
    types: set[int] = set()
    for ident, start, end in top[1:]:
        if ident == _SEGMENT:
            types = _track_types(head, start, end)
    audio_only = 2 in types and 1 not in types
    if doctype == b"webm":
        return ("audio/webm", "audio") if audio_only else ("video/webm", "video")
    return ("audio/x-matroska", "audio") if audio_only else ("video/x-matroska", "video")


def _ogg(head: bytes, _size: int) -> _Found | None:
    """Ogg: the first packet of each stream (its beginning-of-stream page) names the codec."""
    if not head.startswith(b"OggS"):
        return None
    codecs_found: list[bytes] = []
    at = 0
    while head[at:at + 4] == b"OggS" and at + 27 <= len(head):
        flags, segments = head[at + 5], head[at + 26]
        body = at + 27 + segments
        length = sum(head[at + 27:body])
        if flags & 0x02:
            codecs_found.append(head[body:body + 8])
        elif codecs_found:
            break
        at = body + length
    if any(c.startswith(b"\x80theora") for c in codecs_found):
        return "video/ogg", "video"
    if any(c.startswith((b"OpusHead", b"\x01vorbis", b"\x7fFLAC", b"Speex")) for c in
           codecs_found):
        return "audio/ogg", "audio"
    return "application/ogg", "audio"


# MPEG audio: bitrates (kbit/s) by [version is MPEG-1][layer], sample rates by version.
_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_frame(head: bytes, at: int) -> tuple[int, int] | None:
    """(frame length, header bits that stay the same in a stream) of an MPEG audio frame."""
    if at + 4 > len(head):
        return None
    word = struct.unpack_from(">I", head, at)[0]
    version, layer_bits = word >> 19 & 3, word >> 17 & 3
    bitrate_index, rate_index, padding = word >> 12 & 15, word >> 10 & 3, word >> 9 & 1
    if word >> 21 != 0x7FF or version == 1 or layer_bits == 0 or bitrate_index in (0, 15) \
            or rate_index == 3:
        return None
    layer = 4 - layer_bits
    bitrate = _BITRATES[(version == 3, layer)][bitrate_index]
    rate = _RATES[version][rate_index]
    if layer == 1:
        length = (12 * bitrate * 1000 // rate + padding) * 4
    else:
        per_frame = 72 if layer == 3 and version != 3 else 144
        length = per_frame * bitrate * 1000 // rate + padding
    return length, word & 0xFFFE0C00


def _mp3(head: bytes, size: int) -> _Found | None:
    at = 0
    if head.startswith(b"ID3") and len(head) >= 10 and head[3] in (2, 3, 4):
        tag = head[6] << 21 | head[7] << 14 | head[8] << 7 | head[9]
        at = 10 + tag + (10 if head[5] & 0x10 else 0)
        if at >= len(head):
            return "audio/mpeg", "audio"  # a tag larger than the head: what follows is unseen
        if head[at:at + 4] == b"fLaC":
            return "audio/flac", "audio"
    first = _mpeg_frame(head, at)
    if first is None:
        return None
    following = at + first[0]
    if following >= len(head):
        # A lone frame is too weak a sign without an ID3 tag (random bytes match 1 in 4000).
        return ("audio/mpeg", "audio") if following >= size and at > 0 else None
    second = _mpeg_frame(head, following)
    return ("audio/mpeg", "audio") if second and second[1] == first[1] else None


# Markup: an XML root element, or the HTML openers browsers sniff (WHATWG MIME Sniffing).
_HTML_OPENERS = (b"<!doctype html", b"<html", b"<head", b"<script", b"<iframe", b"<h1", b"<div",
                 b"<font", b"<table", b"<a", b"<style", b"<title", b"<b", b"<body", b"<br",
                 b"<p", b"<!--")
_PROLOG = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!doctype(?:[^\[>]|\[.*?\])*>)", re.S | re.I)
_ROOT = re.compile(rb"\s*<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]")


def _markup(head: bytes, _size: int) -> _Found | None:
    text = head.removeprefix(b"\xef\xbb\xbf")
    at, is_xml = 0, text.lstrip().startswith(b"<?xml")
    while match := _PROLOG.match(text, at):
        at = match.end()
    root = _ROOT.match(text, at)
    if root:
        name = root.group(2).lower()
        if name == b"svg":
            return "image/svg+xml", "document"
        if name == b"html":
            return "text/html", "document"
    lowered = text.lstrip(b"\t\n\x0c\r ")[:16].lower()
    for opener in _HTML_OPENERS:
        if lowered.startswith(opener) and lowered[len(opener):len(opener) + 1] in (b" ", b">"):
            return "text/html", "document"
    if is_xml and root:
        return "application/xml", "document"  # XML can hold XHTML script: not plain text
    return None


def _script(head: bytes, _size: int) -> _Found | None:
    if re.match(rb"#![ \t]*/[A-Za-z0-9_./+-]+[ \t\r\n]", head):
        return "text/x-shellscript", "executable"
    return None


_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")  # all but tab, newlines, form feed


def _few_controls(text: str) -> bool:
    """At most one control character in a hundred (an escape sequence or two is fine)."""
    return len(_CONTROLS.findall(text)) * 100 <= len(text)


def _text(head: bytes, size: int) -> _Found | None:
    if not head or b"\x00" in head:
        return None
    try:  # the head may end inside a character when the file goes on
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=size <= len(head))
    except UnicodeDecodeError:
        return None
    return ("text/plain", "text") if _few_controls(text) else None


def _legacy_text(head: bytes) -> bool:
    """Text in an 8-bit encoding (Latin-1, Windows-1252): not UTF-8, but no binary either."""
    return bool(head) and b"\x00" not in head and _few_controls(head.decode("latin-1"))


# Order matters: binary formats first, then markup, then anything that decodes as text.
_SNIFFERS: tuple[_Sniffer, ...] = (_fixed, _checked, _riff, _isobmff, _ebml, _ogg, _mp3,
                                   _markup, _script, _text)

# Declared families that make a promise (image/*, video/*, audio/*, text/*, application/pdf)
# the content must keep; other declared types (application/octet-stream, ...) promise nothing.
_TEXTUAL = frozenset({"image/svg+xml", "application/xml", "text/x-shellscript"})


def _normalise(declared: str | None) -> str | None:
    if declared is None:
        return None
    mime = declared.split(";", 1)[0].strip().lower()
    return mime or None


def _disguised(declared: str | None, mime: str, kind: Kind, head: bytes) -> bool:
    if declared is None or declared == OPAQUE:
        return False
    if declared == "application/pdf":
        return mime != "application/pdf"
    if declared.startswith("image/"):
        # SVG is a script-capable document: only an SVG may be declared as one.
        return not (kind == "image" or (declared == "image/svg+xml" and mime == declared))
    if declared.startswith(("video/", "audio/")):
        return kind not in ("video", "audio")  # one container often carries either
    if declared.startswith("text/"):
        textual = mime.startswith("text/") or mime in _TEXTUAL
        return not (textual or (kind == "opaque" and _legacy_text(head)))
    return False


def detect(head: bytes, declared: str | None, total_size: int) -> Detected:
    """The type of a file from ``head`` (its first 64 KiB) and its ``total_size``."""
    found: _Found = (OPAQUE, "opaque")
    for sniffer in _SNIFFERS:
        result = sniffer(head, total_size)
        if result is not None:
            found = result
            break
    mime, kind = found
    declared = _normalise(declared)
    return Detected(mime, kind, declared, _disguised(declared, mime, kind, head))


def matches(mime: str, patterns: Sequence[str]) -> bool:
    """Whether ``mime`` matches one of ``patterns`` (``image/png``, ``image/*``, ``*``)."""
    mime = mime.split(";", 1)[0].strip().lower()
    family = mime.split("/", 1)[0]
    for pattern in (p.strip().lower() for p in patterns):
        if pattern in ("*", "*/*", mime) or pattern == f"{family}/*":
            return True
    return False
