"""ffprobe refusals: containers and codecs outside the allow-lists (named in the message), too
long, truncated, garbage, and files too costly to read — each with its Matrix error."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from hearth.media_repo.errors import MediaRejected
from hearth.media_repo.sandbox import Limits
from hearth.media_repo.video import probe
from tests.unit.media_repo.test_video_probe import DEFAULTS, PICTURE, SOUND, ffmpeg, make

VIDEO = [a.format(size="160x120") for a in PICTURE]


def refusal(path: Path, **overrides: object) -> MediaRejected:
    """probe's refusal of ``path`` under the shipped lists, some of them overridden."""
    options: dict[str, object] = {
        "containers": DEFAULTS.video_containers, "video_codecs": DEFAULTS.video_codecs,
        "audio_codecs": DEFAULTS.audio_codecs, "max_duration_s": 6 * 3600.0,
        "limits": Limits(), **overrides}
    with pytest.raises(MediaRejected) as caught:
        probe(path, **options)  # type: ignore[arg-type]
    return caught.value


def cut(path: Path, share: float) -> Path:
    """A copy of ``path`` keeping only its first ``share`` of bytes (an upload cut short)."""
    data = path.read_bytes()
    short = path.with_name(path.name + "-cut")
    short.write_bytes(data[: int(len(data) * share)])
    return short


def test_probe_refuses_a_container_outside_the_list(tmp_path: Path) -> None:
    """MPEG-TS is not an allowed container: 403, counted as codec_not_allowed."""
    ts = ffmpeg(tmp_path / "ts", *VIDEO, "-t", "1", "-c:v", "mpeg2video", "-f", "mpegts")
    error = refusal(ts)
    assert (error.status, error.errcode, error.reason) == (403, "M_FORBIDDEN",
                                                           "codec_not_allowed")
    assert "container" in error.message


def test_probe_refuses_an_allowed_container_left_out_of_this_list(tmp_path: Path) -> None:
    """An MP4 is refused where only Matroska/WebM is allowed."""
    error = refusal(make(tmp_path, "mp4"), containers=("matroska,webm",))
    assert (error.status, error.reason) == (403, "codec_not_allowed")


def test_probe_compares_the_container_name_as_a_whole(tmp_path: Path) -> None:
    """"mp4" alone does not allow ffprobe's "mov,mp4,m4a,3gp,3g2,mj2"; the refusal names it."""
    error = refusal(make(tmp_path, "mp4"), containers=("mp4",))
    assert error.reason == "codec_not_allowed"
    assert "'mov,mp4,m4a,3gp,3g2,mj2'" in error.message and "allowed: mp4" in error.message


def test_probe_refuses_a_video_codec_outside_the_list(tmp_path: Path) -> None:
    """MPEG-2 video in Matroska: the codec and the allowed ones are named."""
    mkv = ffmpeg(tmp_path / "mkv", *VIDEO, "-t", "1", "-c:v", "mpeg2video", "-f", "matroska")
    error = refusal(mkv)
    assert (error.status, error.errcode, error.reason) == (403, "M_FORBIDDEN",
                                                           "codec_not_allowed")
    assert "video codec 'mpeg2video' is not allowed" in error.message
    assert "h264; hevc; vp8; vp9" in error.message


def test_probe_refuses_an_audio_codec_outside_the_list(tmp_path: Path) -> None:
    """AC-3 sound in Matroska is refused, naming ac3."""
    mkv = ffmpeg(tmp_path / "mkv", *SOUND, "-t", "1", "-c:a", "ac3", "-f", "matroska")
    error = refusal(mkv)
    assert (error.status, error.reason) == (403, "codec_not_allowed")
    assert "audio codec 'ac3' is not allowed" in error.message


def test_probe_refuses_a_codec_removed_from_the_list(tmp_path: Path) -> None:
    """The lists are the configured ones: without opus, a WebM with Opus sound is refused."""
    audio = tuple(c for c in DEFAULTS.audio_codecs if c != "opus")
    error = refusal(make(tmp_path, "webm"), audio_codecs=audio)
    assert "audio codec 'opus' is not allowed" in error.message


def test_probe_refuses_cover_art_in_an_unusual_picture_codec(tmp_path: Path) -> None:
    """An attached BMP picture is not one of the cover-art codecs (JPEG, PNG)."""
    cover = ffmpeg(tmp_path / "cover", *PICTURE[:3], "testsrc2=size=32x32", "-frames:v", "1",
                   "-c:v", "png", "-f", "image2")
    tagged = ffmpeg(tmp_path / "tagged", "-i", str(make(tmp_path, "mp3")), "-i", str(cover),
                    "-map", "0", "-map", "1", "-c:a", "copy", "-c:v", "bmp",
                    "-disposition:v", "attached_pic", "-f", "mp3")
    error = refusal(tagged)
    assert "cover picture codec 'bmp' is not allowed" in error.message


def test_probe_refuses_a_file_longer_than_the_limit(tmp_path: Path) -> None:
    """Past max_duration_s: 413 M_TOO_LARGE, reason duration."""
    error = refusal(make(tmp_path, "mp3", seconds=3), max_duration_s=2.0)
    assert (error.status, error.errcode, error.reason) == (413, "M_TOO_LARGE", "duration")
    assert "the most allowed is 2.0 s" in error.message


def test_probe_accepts_a_file_as_long_as_the_limit(tmp_path: Path) -> None:
    """The duration limit is inclusive of files just under it."""
    info = probe(make(tmp_path, "wav", seconds=2), Limits(), containers=("wav",),
                 video_codecs=(), audio_codecs=("pcm_s16le",), max_duration_s=2.0)
    assert info.duration_s == pytest.approx(2.0)


@pytest.mark.parametrize("name", ["mp4", "webm", "mkv", "flac", "mp3"])
def test_probe_refuses_a_truncated_file(tmp_path: Path, name: str) -> None:
    """A file cut at half its bytes is malformed (400), whatever ffprobe still reads of it."""
    error = refusal(cut(make(tmp_path, name, seconds=4), 0.5))
    assert (error.status, error.errcode, error.reason) == (400, "M_INVALID_PARAM", "malformed")
    assert "truncated" in error.message


def test_probe_refuses_a_truncated_mp4_with_its_index_in_front(tmp_path: Path) -> None:
    """A "fast start" MP4 (index first) cut short still reads, but its packets stop early."""
    mp4 = ffmpeg(tmp_path / "fast", *VIDEO, "-t", "4", "-c:v", "libx264",
                 "-movflags", "+faststart", "-f", "mp4")
    error = refusal(cut(mp4, 0.5))
    assert error.reason == "malformed"
    assert "its data stops at" in error.message


def test_probe_refuses_a_file_with_neither_picture_nor_sound(tmp_path: Path) -> None:
    """A Matroska file holding only subtitles is not a video or audio file."""
    srt = tmp_path / "subtitles.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,500\nHello\n\n")
    mkv = ffmpeg(tmp_path / "mkv", "-i", str(srt), "-c:s", "srt", "-f", "matroska")
    error = refusal(mkv)
    assert (error.reason, error.message) == (
        "malformed", "The video/audio file has no video or audio stream")


def test_probe_refuses_random_bytes(tmp_path: Path) -> None:
    """Garbage is malformed, with ffprobe's reason and without our file path."""
    garbage = tmp_path / "garbage"
    garbage.write_bytes(secrets.token_bytes(100_000))
    error = refusal(garbage)
    assert (error.status, error.reason) == (400, "malformed")
    assert str(tmp_path) not in error.message


def test_probe_refuses_an_empty_file(tmp_path: Path) -> None:
    """Zero bytes are not a video."""
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert refusal(empty).reason == "malformed"


def test_probe_refuses_a_video_header_with_no_media_after_it(tmp_path: Path) -> None:
    """A valid MP4 start followed by garbage (a disguised file) is malformed."""
    mp4 = make(tmp_path, "mp4").read_bytes()
    forged = tmp_path / "forged"
    forged.write_bytes(mp4[:64] + secrets.token_bytes(len(mp4) - 64))
    assert refusal(forged).reason == "malformed"


def test_probe_refuses_when_no_container_is_allowed(tmp_path: Path) -> None:
    """An empty container list refuses everything (and never means "any demuxer")."""
    assert refusal(make(tmp_path, "mp4"), containers=()).reason == "codec_not_allowed"


def test_probe_refuses_a_file_it_cannot_read_in_time(tmp_path: Path) -> None:
    """Past the sandbox's wall-clock limit (a FIFO nobody writes blocks ffprobe): 413."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    error = refusal(fifo, limits=Limits(wall_seconds=1.0))
    assert (error.status, error.errcode, error.reason) == (413, "M_TOO_LARGE",
                                                           "processing_limit")

