"""Poster frames cut with ffmpeg: a JPEG of the frame at the asked time, no wider than the
limit, with the displayed aspect ratio (rotation and non-square pixels) kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from hearth.media_repo.errors import MediaRejected
from hearth.media_repo.sandbox import Limits
from hearth.media_repo.video import poster
from tests.unit.media_repo.test_video_probe import FORMATS, PICTURE, ffmpeg, inspect, make

VIDEOS = [name for name, spec in FORMATS.items() if spec[1] is not None]


def cut_poster(video: Path, at_s: float = 1.0, **options: int) -> tuple[tuple[int, int], Path]:
    """The poster of ``video`` (probed first, as the upload path does) and its file."""
    dst = video.with_name(video.name + ".jpg")
    info = inspect(video)
    return poster(video, dst, Limits(), at_s=at_s, container=info.container, **options), dst


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("av-videos")
    return {name: make(directory, name) for name in VIDEOS}


@pytest.mark.parametrize("name", VIDEOS)
def test_poster_is_a_jpeg_of_the_video_size(videos: dict[str, Path], name: str) -> None:
    """Each allowed video container gives a JPEG as large as the video (under the limit)."""
    size, dst = cut_poster(videos[name])
    with Image.open(dst) as picture:
        assert (picture.format, picture.size) == ("JPEG", size)
    assert size == tuple(int(n) for n in str(FORMATS[name][1]).split("x"))
    assert dst.read_bytes()[:2] == b"\xff\xd8"


def test_poster_scales_a_wide_video_down_to_the_limit(tmp_path: Path) -> None:
    """A 1920x1080 video gives a 1280x720 poster by default."""
    hd = ffmpeg(tmp_path / "hd", *[a.format(size="1920x1080") for a in PICTURE], "-t", "1",
                "-c:v", "libx264", "-preset", "ultrafast", "-f", "mp4")
    assert cut_poster(hd, at_s=0.5)[0] == (1280, 720)


def test_poster_keeps_the_aspect_ratio_under_a_small_limit(videos: dict[str, Path]) -> None:
    """320x240 under max_width=100 is 100 wide and about 75 high."""
    (width, height), _ = cut_poster(videos["mp4"], max_width=100)
    assert width == 100 and abs(height - 75) <= 1


def test_poster_applies_non_square_pixels(tmp_path: Path) -> None:
    """320x240 stored pixels with a 2:1 pixel aspect are displayed, and postered, 640x240."""
    wide = ffmpeg(tmp_path / "wide", *[a.format(size="320x240") for a in PICTURE], "-t", "1",
                  "-vf", "setsar=2", "-c:v", "libx264", "-f", "mp4")
    assert cut_poster(wide, at_s=0.5)[0] == (640, 240)


def test_poster_of_a_rotated_video_is_upright(videos: dict[str, Path], tmp_path: Path) -> None:
    """A sideways-stored video's poster has the displayed (swapped) size."""
    rotated = ffmpeg(tmp_path / "rotated", "-i", str(videos["mp4"]), "-c", "copy",
                     "-metadata:s:v:0", "rotate=90", "-f", "mp4")
    assert cut_poster(rotated)[0] == (240, 320)


def test_poster_is_taken_at_the_asked_time(videos: dict[str, Path], tmp_path: Path) -> None:
    """The frame at 0 s and at 1.5 s differ (the test picture moves)."""
    first = tmp_path / "first.jpg"
    later = tmp_path / "later.jpg"
    container = inspect(videos["mp4"]).container
    poster(videos["mp4"], first, Limits(), at_s=0.0, container=container)
    poster(videos["mp4"], later, Limits(), at_s=1.5, container=container)
    assert first.read_bytes() != later.read_bytes()


def test_poster_past_the_end_is_refused(videos: dict[str, Path]) -> None:
    """Asking for a frame after the last one is malformed, not an empty poster."""
    with pytest.raises(MediaRejected) as caught:
        cut_poster(videos["mp4"], at_s=30.0)
    assert (caught.value.status, caught.value.reason) == (400, "malformed")


def test_poster_of_a_sound_file_is_refused(tmp_path: Path) -> None:
    """A file without a moving picture has no poster."""
    with pytest.raises(MediaRejected) as caught:
        cut_poster(make(tmp_path, "mp3"), at_s=0.5)
    assert caught.value.reason == "malformed"


def test_poster_past_the_time_limit_is_refused(tmp_path: Path) -> None:
    """ffmpeg killed at the sandbox's wall-clock limit (a FIFO nobody writes blocks it): 413."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(MediaRejected) as caught:
        poster(fifo, tmp_path / "p.jpg", Limits(wall_seconds=1.0), at_s=0.0,
               container="mov,mp4,m4a,3gp,3g2,mj2")
    assert (caught.value.status, caught.value.reason) == (413, "processing_limit")
