"""sniff.detect calls random bytes (what encrypted attachments look like) opaque."""

from __future__ import annotations

import random

from hearth.media_repo import sniff


def test_random_bytes_are_opaque() -> None:
    """Hundreds of random files of every size are opaque: no short magic number fires."""
    rng = random.Random(9)
    for _ in range(600):
        size = rng.choice((16, 100, 400, 1000, 4096, 65536))
        data = rng.randbytes(size)
        assert sniff.detect(data, "application/octet-stream", size) == sniff.Detected(
            "application/octet-stream", "opaque", "application/octet-stream", False)


def test_random_head_of_large_file_is_opaque() -> None:
    """Only the head of a large encrypted file is read; it is still opaque."""
    data = random.Random(4).randbytes(65536)
    assert sniff.detect(data, None, 50_000_000).kind == "opaque"


def test_utf8_text_is_plain_text() -> None:
    """Text that decodes as UTF-8 is text/plain, emoji and all."""
    data = "Hello 👋 — a note\nwith lines\n".encode()
    assert sniff.detect(data, "text/markdown", len(data)) == sniff.Detected(
        "text/plain", "text", "text/markdown", False)
