"""sniff.detect names documents, archives, executables, markup and text from their bytes."""

from __future__ import annotations

import bz2
import gzip
import io
import struct
import tarfile
import zipfile

import pytest

from hearth.media_repo import sniff


def _zip(names: tuple[str, ...]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("a.txt")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"hi"))
    return buffer.getvalue()


def _pe() -> bytes:
    header = bytearray(b"MZ" + b"\x00" * 126)
    header[0x3C:0x40] = struct.pack("<I", 0x80)
    return bytes(header) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 200


PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages "
       b"/Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
CASES: dict[str, tuple[bytes, str, sniff.Kind]] = {
    "pdf": (PDF, "application/pdf", "document"),
    "zip": (_zip(("a.txt",)), "application/zip", "archive"),
    "docx": (_zip(("[Content_Types].xml", "word/document.xml")), "application/zip", "archive"),
    "odt": (_zip(("mimetype", "content.xml")), "application/zip", "archive"),
    "gzip": (gzip.compress(b"hello" * 100), "application/gzip", "archive"),
    "bzip2": (bz2.compress(b"hello" * 100), "application/x-bzip2", "archive"),
    "tar": (_tar(), "application/x-tar", "archive"),
    "7z": (b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24, "application/x-7z-compressed",
           "archive"),
    "rar4": (b"Rar!\x1a\x07\x00\xcf\x90\x73\x00\x00\x0d", "application/vnd.rar", "archive"),
    "rar5": (b"Rar!\x1a\x07\x01\x00\x33\x92\xb5\xe5", "application/vnd.rar", "archive"),
    "elf": (b"\x7fELF\x02\x01\x01" + b"\x00" * 57, "application/x-executable", "executable"),
    "pe": (_pe(), "application/x-msdownload", "executable"),
    "macho64": (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 24, "application/x-mach-binary",
                "executable"),
    "macho-fat": (b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + b"\x00" * 40,
                  "application/x-mach-binary", "executable"),
    "java-class": (b"\xca\xfe\xba\xbe\x00\x00\x00\x41" + b"\x00" * 40, "application/java-vm",
                   "executable"),
    "shell": (b"#!/bin/sh\nrm -rf ~\n", "text/x-shellscript", "executable"),
    "env-python": (b"#! /usr/bin/env python3\nprint(1)\n", "text/x-shellscript", "executable"),
    "html-doctype": (b"\n  <!DOCTYPE html><html><body>hi</body></html>", "text/html", "document"),
    "html-script": (b"<script>alert(document.cookie)</script>", "text/html", "document"),
    "html-upper": (b"\xef\xbb\xbf<HTML>\n<BODY>x</BODY>", "text/html", "document"),
    "html-comment": (b"<!-- x -->\n<p>hello</p>", "text/html", "document"),
    "xhtml": (b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
              "text/html", "document"),
    "xml": (b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom"/>',
            "application/xml", "document"),
    "text": ("Grüße aus Köln\nline two\ttabbed\r\n".encode(), "text/plain", "text"),
    "json": (b'{"a": [1, 2, 3], "b": "c"}\n', "text/plain", "text"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_format_detected_from_bytes(name: str) -> None:
    """Each format gets its type and kind from its content alone."""
    data, mime, kind = CASES[name]
    assert sniff.detect(data, None, len(data)) == sniff.Detected(mime, kind, None, False)


def test_text_cut_inside_a_character_is_still_text() -> None:
    """The head may end in the middle of a UTF-8 sequence when the file goes on."""
    data = ("é" * 40_000).encode()
    head = data[:65535]
    assert sniff.detect(head, None, len(data)).mime == "text/plain"


def test_text_with_many_control_characters_is_not_text() -> None:
    """Control characters beyond a few per hundred make it opaque, not text."""
    data = b"abc\x01\x02\x03def\x04\x05" * 50
    assert sniff.detect(data, None, len(data)).kind == "opaque"


def test_text_with_nul_is_not_text() -> None:
    """A NUL byte is never in text (UTF-16 and binaries have them)."""
    data = "hello world".encode("utf-16")
    assert sniff.detect(data, None, len(data)).kind == "opaque"


def test_empty_file_is_opaque() -> None:
    """Zero bytes say nothing about themselves."""
    assert sniff.detect(b"", None, 0) == sniff.Detected("application/octet-stream", "opaque",
                                                       None, False)
