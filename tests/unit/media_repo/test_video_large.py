"""A 100 MB video (1080p30 H.264 + AAC, made once per session) is probed and postered.

The issue's goal is probe + poster within 5 s; timing is measured by the benchmark, not
asserted here (no timed assertions in tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearth.media_repo.sandbox import Limits
from hearth.media_repo.video import poster
from tests.unit.media_repo.test_video_probe import PICTURE, SOUND, ffmpeg, inspect

SECONDS = 40  # at 20 Mbit/s: about 100 MB


@pytest.fixture(scope="session")
def large_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ffmpeg(tmp_path_factory.mktemp("av-large") / "large",
                  *[a.format(size="1920x1080") for a in PICTURE], *SOUND, "-t", str(SECONDS),
                  "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "20M", "-maxrate", "20M",
                  "-bufsize", "40M", "-c:a", "aac", "-f", "mp4")


def test_large_video_is_about_100_mb(large_video: Path) -> None:
    """The fixture is the size the goal speaks of."""
    assert 90e6 < large_video.stat().st_size < 115e6


def test_large_video_is_probed_whole(large_video: Path) -> None:
    """Its size and full duration are read (the tail check reads the end of 100 MB)."""
    info = inspect(large_video)
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (
        1920, 1080, "h264", "aac")
    assert info.duration_s == pytest.approx(SECONDS, abs=0.1)


def test_large_video_gets_a_poster(large_video: Path, tmp_path: Path) -> None:
    """A 1280x720 poster one second in, under the default sandbox limits."""
    info = inspect(large_video)
    size = poster(large_video, tmp_path / "poster.jpg", Limits(), at_s=1.0,
                  container=info.container)
    assert size == (1280, 720)
