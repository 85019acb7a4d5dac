"""The upload pipeline end to end on real files: what is stored, what is refused and kept."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from hearth.media_repo.errors import MediaRejected
from hearth.media_repo.pipeline import Rules, Upload, prepare
from hearth.media_repo.sandbox import Limits
from hearth.media_repo.scanner import ClamdScanner
from tests.harness import media_samples as samples
from tests.harness.clamd import SessionClamd

SERVER_TYPES = ("image/*", "video/*", "audio/*", "application/pdf", "text/plain",
                "application/octet-stream")


def _rules(tmp_path: Path, scanner: ClamdScanner | None = None, required: bool = True) -> Rules:
    return Rules(max_image_pixels=32_000_000, max_image_bytes=100 << 20,
                 limits=Limits(memory_bytes=1 << 30, cpu_seconds=20, wall_seconds=20),
                 video_containers=("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "ogg"),
                 video_codecs=("h264", "vp9"), audio_codecs=("aac", "opus"),
                 max_video_duration_s=3600, scanner=scanner, scan_required=required,
                 quarantine_dir=tmp_path / "quarantine")


def _upload(tmp_path: Path, data: bytes, declared: str | None,
            allowed: tuple[str, ...] = SERVER_TYPES, role: str | None = "member") -> Upload:
    path = tmp_path / "original"
    path.write_bytes(data)
    return Upload(path, declared, "@ann:example.org", role, allowed)


def test_jpeg_stored_clean_with_its_facts(tmp_path: Path) -> None:
    """GPS gone from the file to store; its hash, size and dimensions describe that file."""
    prepared = prepare(_upload(tmp_path, samples.jpeg_with_gps(), "image/jpeg"),
                       _rules(tmp_path), tmp_path)
    stored = prepared.path.read_bytes()
    assert samples.GPS_IFD not in Image.open(io.BytesIO(stored)).getexif()
    info = prepared.info
    assert (info.mime, info.kind, info.width, info.height) == ("image/jpeg", "image", 64, 32)
    assert info.sha256 == hashlib.sha256(stored).hexdigest() and info.size == len(stored)
    assert prepared.stripped and info.blurhash


def test_video_gets_duration_and_poster(tmp_path: Path) -> None:
    """An MP4: probed for duration and dimensions, a JPEG poster cut, the bytes kept."""
    data = samples.mp4_video()
    prepared = prepare(_upload(tmp_path, data, "video/mp4"), _rules(tmp_path), tmp_path)
    assert prepared.path.read_bytes() == data
    assert prepared.info.kind == "video" and prepared.info.poster
    assert prepared.info.duration_ms is not None and 1900 <= prepared.info.duration_ms <= 2200
    assert prepared.poster_path is not None
    assert Image.open(prepared.poster_path).format == "JPEG"


def test_opaque_bytes_kept_as_they_are(tmp_path: Path) -> None:
    """Encrypted attachments (random bytes) are neither changed nor described."""
    data = os.urandom(10_000)
    prepared = prepare(_upload(tmp_path, data, "application/octet-stream"), _rules(tmp_path),
                       tmp_path)
    assert prepared.path.read_bytes() == data
    assert (prepared.info.mime, prepared.info.kind) == ("application/octet-stream", "opaque")


@pytest.mark.parametrize(("data", "declared", "status", "reason"), [
    (samples.elf_binary(), "image/png", 400, "malformed"),
    (samples.elf_binary(), None, 403, "type_not_allowed"),
    (samples.png_bomb(), "image/png", 413, "too_large"),
    (samples.still("BMP"), "image/bmp", 400, "malformed"),
])
def test_refusals_carry_status_and_reason(tmp_path: Path, data: bytes, declared: str | None,
                                          status: int, reason: str) -> None:
    """Disguised, not allowed, bombs and uncheckable images: each with its status."""
    with pytest.raises(MediaRejected) as refused:
        prepare(_upload(tmp_path, data, declared), _rules(tmp_path), tmp_path)
    assert (refused.value.status, refused.value.reason) == (status, reason)


def test_role_list_names_the_role(tmp_path: Path) -> None:
    """A type outside the role's own list is refused naming the role."""
    with pytest.raises(MediaRejected) as refused:
        prepare(_upload(tmp_path, samples.still("PNG"), "image/png", ("text/plain",), "bot"),
                _rules(tmp_path), tmp_path)
    assert "'bot'" in refused.value.message


def test_infected_refused_and_quarantined(tmp_path: Path, clamd: SessionClamd) -> None:
    """The test signature: 403 infected, the hash on the refusal, the file kept aside."""
    scanner = ClamdScanner(str(clamd.socket_path), 10)
    with pytest.raises(MediaRejected) as refused:
        prepare(_upload(tmp_path, clamd.infected_sample, None), _rules(tmp_path, scanner),
                tmp_path)
    digest = hashlib.sha256(clamd.infected_sample).hexdigest()
    assert (refused.value.status, refused.value.reason, refused.value.sha256) == (
        403, "infected", digest)
    kept = tmp_path / "quarantine" / digest
    assert kept.read_bytes() == clamd.infected_sample and kept.stat().st_mode & 0o077 == 0


def test_scanner_unreachable_refuses_or_lets_through(tmp_path: Path) -> None:
    """No clamd at the address: 503 when scanning is required, unscanned when allowed."""
    scanner = ClamdScanner(str(tmp_path / "no-such.sock"), 2)
    with pytest.raises(MediaRejected) as refused:
        prepare(_upload(tmp_path, b"hello", "text/plain"), _rules(tmp_path, scanner), tmp_path)
    assert (refused.value.status, refused.value.reason) == (503, "scanner_unavailable")
    prepared = prepare(_upload(tmp_path, b"hello", "text/plain"),
                       _rules(tmp_path, scanner, required=False), tmp_path)
    assert not prepared.scanned
