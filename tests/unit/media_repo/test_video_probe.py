"""ffprobe inspection of allowed files: each allowed container and codec is accepted with its
duration, displayed size, codecs and type; cover art is allowed in sound files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hearth.media_repo.sandbox import Limits
from hearth.media_repo.video import AvInfo, probe
from hearth.settings import MediaSettings

DEFAULTS = MediaSettings()
PICTURE = ["-f", "lavfi", "-i", "testsrc2=size={size}:rate=25"]
SOUND = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]

# name -> (ffmpeg arguments, size of the picture or None, container, mime, video codec,
# audio codec or "" for none)
FORMATS: dict[str, tuple[list[str], str | None, str, str, str | None, str]] = {
    "mp4": (["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mp4"],
            "320x240", "mov,mp4,m4a,3gp,3g2,mj2", "video/mp4", "h264", "aac"),
    "mov": (["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mov"],
            "176x144", "mov,mp4,m4a,3gp,3g2,mj2", "video/quicktime", "h264", "aac"),
    "webm": (["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
              "-c:a", "libopus", "-f", "webm"],
             "256x144", "matroska,webm", "video/webm", "vp9", "opus"),
    "mkv": (["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "flac", "-f", "matroska"],
            "160x120", "matroska,webm", "video/x-matroska", "h264", "flac"),
    "ogv": (["-c:v", "libtheora", "-c:a", "libvorbis", "-f", "ogg"],
            "192x108", "ogg", "video/ogg", "theora", "vorbis"),
    "hevc": (["-c:v", "libx265", "-x265-params", "log-level=error", "-tag:v", "hvc1",
              "-c:a", "aac", "-f", "mp4"],
             "320x180", "mov,mp4,m4a,3gp,3g2,mj2", "video/mp4", "hevc", "aac"),
    "av1": (["-c:v", "libaom-av1", "-usage", "realtime", "-cpu-used", "8",
             "-c:a", "libopus", "-f", "webm"],
            "208x120", "matroska,webm", "video/webm", "av1", "opus"),
    "vp8": (["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libvorbis", "-f", "webm"],
            "240x160", "matroska,webm", "video/webm", "vp8", "vorbis"),
    "mpeg4": (["-c:v", "mpeg4", "-c:a", "aac", "-f", "mp4"],
              "352x288", "mov,mp4,m4a,3gp,3g2,mj2", "video/mp4", "mpeg4", "aac"),
    "10bit": (["-c:v", "libx264", "-pix_fmt", "yuv420p10le", "-an", "-f", "mp4"],
              "128x96", "mov,mp4,m4a,3gp,3g2,mj2", "video/mp4", "h264", ""),
    "m4a": (["-c:a", "aac", "-f", "ipod"], None, "mov,mp4,m4a,3gp,3g2,mj2", "audio/mp4",
            None, "aac"),
    "alac": (["-c:a", "alac", "-f", "ipod"], None, "mov,mp4,m4a,3gp,3g2,mj2", "audio/mp4",
             None, "alac"),
    "ogg": (["-c:a", "libvorbis", "-f", "ogg"], None, "ogg", "audio/ogg", None, "vorbis"),
    "opus": (["-c:a", "libopus", "-f", "ogg"], None, "ogg", "audio/ogg", None, "opus"),
    "mp3": (["-c:a", "libmp3lame", "-f", "mp3"], None, "mp3", "audio/mpeg", None, "mp3"),
    "wav": (["-c:a", "pcm_s16le", "-f", "wav"], None, "wav", "audio/wav", None, "pcm_s16le"),
    "wav24": (["-c:a", "pcm_s24le", "-f", "wav"], None, "wav", "audio/wav", None, "pcm_s24le"),
    "wavf32": (["-c:a", "pcm_f32le", "-f", "wav"], None, "wav", "audio/wav", None,
               "pcm_f32le"),
    "flac": (["-c:a", "flac", "-f", "flac"], None, "flac", "audio/flac", None, "flac"),
}


def ffmpeg(out: Path, *args: str) -> Path:
    """Run ffmpeg to write ``out`` (no extension, like an upload: give ``-f``)."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(out)], check=True)
    return out


def make(directory: Path, name: str, seconds: float = 2.0) -> Path:
    """The FORMATS sample ``name``, ``seconds`` long."""
    args, size, *_ = FORMATS[name]
    inputs = [*(a.format(size=size) for a in PICTURE)] if size else []
    return ffmpeg(directory / name, *inputs, *SOUND, "-t", str(seconds), *args)


def inspect(path: Path) -> AvInfo:
    """probe with the shipped allow-lists and limits."""
    return probe(path, Limits(), containers=DEFAULTS.video_containers,
                 video_codecs=DEFAULTS.video_codecs, audio_codecs=DEFAULTS.audio_codecs,
                 max_duration_s=6 * 3600)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("av-samples")
    return {name: make(directory, name) for name in FORMATS}


@pytest.mark.parametrize("name", list(FORMATS))
def test_probe_accepts_each_allowed_format(samples: dict[str, Path], name: str) -> None:
    """Every allowed container/codec pair is accepted and described."""
    _, size, container, mime, video_codec, audio_codec = FORMATS[name]
    info = inspect(samples[name])
    width, height = (int(n) for n in size.split("x")) if size else (None, None)
    assert info == AvInfo(container=container, mime=mime, duration_s=info.duration_s,
                          width=width, height=height, video_codec=video_codec,
                          audio_codec=audio_codec or None, has_video=size is not None)
    assert info.duration_s == pytest.approx(2.0, abs=0.1)


def test_probe_reports_the_duration_of_a_longer_file(tmp_path: Path) -> None:
    """The duration is the file's own, not a constant of the samples."""
    info = inspect(make(tmp_path, "mp3", seconds=7.5))
    assert info.duration_s == pytest.approx(7.5, abs=0.1)


def test_probe_swaps_the_size_of_a_rotated_video(samples: dict[str, Path],
                                                 tmp_path: Path) -> None:
    """A phone video stored sideways with a rotation says how it is displayed."""
    rotated = ffmpeg(tmp_path / "rotated", "-i", str(samples["mp4"]), "-c", "copy",
                     "-metadata:s:v:0", "rotate=90", "-f", "mp4")
    info = inspect(rotated)
    assert (info.width, info.height) == (240, 320)


def test_probe_allows_cover_art_in_a_sound_file(samples: dict[str, Path],
                                                tmp_path: Path) -> None:
    """An mp3 with an attached PNG picture is still a sound file with no video."""
    cover = ffmpeg(tmp_path / "cover", *PICTURE[:3], "testsrc2=size=64x64", "-frames:v", "1",
                   "-c:v", "png", "-f", "image2")
    tagged = ffmpeg(tmp_path / "tagged", "-i", str(samples["mp3"]), "-i", str(cover),
                    "-map", "0", "-map", "1", "-c", "copy", "-disposition:v", "attached_pic",
                    "-f", "mp3")
    info = inspect(tagged)
    assert (info.mime, info.has_video, info.width, info.audio_codec) == (
        "audio/mpeg", False, None, "mp3")
