"""sniff.detect names audio and video containers from real files made with ffmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearth.media_repo import sniff
from tests.unit.media_repo import fixtures_images as make

EXPECTED: dict[str, tuple[str, sniff.Kind]] = {
    "mp4": ("video/mp4", "video"), "mov": ("video/quicktime", "video"),
    "m4a": ("audio/mp4", "audio"), "mp4-audio": ("audio/mp4", "audio"),
    "webm": ("video/webm", "video"), "webm-audio": ("audio/webm", "audio"),
    "mkv": ("video/x-matroska", "video"), "ogg-opus": ("audio/ogg", "audio"),
    "ogg-vorbis": ("audio/ogg", "audio"), "ogg-theora": ("video/ogg", "video"),
    "mp3": ("audio/mpeg", "audio"), "mp3-bare": ("audio/mpeg", "audio"),
    "wav": ("audio/wav", "audio"), "flac": ("audio/flac", "audio"),
}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {name: make.clip(folder, name) for name in make.CLIPS}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_clip_detected_from_content(clips: dict[str, Path], name: str) -> None:
    """Each container (and audio-only variants of video containers) gets its own type."""
    data = clips[name].read_bytes()
    assert sniff.detect(data[:65536], None, len(data)) == sniff.Detected(
        *EXPECTED[name], None, False)


def test_mp3_without_id3_detected_by_frame_sync(clips: dict[str, Path]) -> None:
    """A bare MPEG audio stream (no ID3 tag) is found from two consecutive frame headers."""
    data = clips["mp3-bare"].read_bytes()
    assert data[:3] != b"ID3" and data[0] == 0xFF
    assert sniff.detect(data, None, len(data)).mime == "audio/mpeg"


def test_mp4_with_moov_after_head_falls_back_to_brand(clips: dict[str, Path]) -> None:
    """When the movie header is beyond the head, the ftyp brand decides (video/mp4)."""
    data = clips["mp4"].read_bytes()
    head = data[:40]
    assert sniff.detect(head, None, 10_000_000).mime == "video/mp4"


def test_audio_declared_as_video_is_not_disguised(clips: dict[str, Path]) -> None:
    """One container often holds either: audio declared as video/* is not a disguise."""
    data = clips["webm-audio"].read_bytes()
    assert not sniff.detect(data, "video/webm", len(data)).disguised
