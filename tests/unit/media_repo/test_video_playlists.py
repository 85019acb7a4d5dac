"""Playlists uploaded as media (HLS m3u8, ffconcat) are refused without ffprobe or ffmpeg ever
opening the file they point at.

The file they point at is a FIFO nobody writes: opening it blocks, so a tool that follows the
playlist runs into the sandbox's wall-clock limit instead of answering at once. The first test
shows that plain ffprobe, even with ``-protocol_whitelist file``, does follow them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hearth.media_repo.errors import MediaRejected
from hearth.media_repo.sandbox import Limits, SandboxError, run_limited
from hearth.media_repo.video import poster
from tests.unit.media_repo.test_video_probe import inspect

PLAYLISTS = {
    "hls": "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2.0,\n{target}\n#EXT-X-ENDLIST\n",
    "hls-relative": "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2.0,\n{name}\n"
                    "#EXT-X-ENDLIST\n",
    "ffconcat": "ffconcat version 1.0\nfile {name}\n",
}


@pytest.fixture(params=list(PLAYLISTS))
def playlist(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """An upload (no extension) that is a playlist of a FIFO in the same directory."""
    target = tmp_path / "secret.mp4"  # HLS follows only media file names
    os.mkfifo(target)
    upload = tmp_path / "upload"
    upload.write_text(PLAYLISTS[request.param].format(target=target, name=target.name))
    return upload


def test_plain_ffprobe_follows_the_playlist(playlist: Path) -> None:
    """Without a format whitelist ffprobe opens the listed file (and blocks on the FIFO)."""
    with pytest.raises(SandboxError) as caught:
        run_limited(["ffprobe", "-v", "error", "-protocol_whitelist", "file", "-show_streams",
                     f"file:{playlist}"], Limits(wall_seconds=2.0))
    assert caught.value.reason == "timeout"


def test_probe_refuses_a_playlist_without_opening_its_entries(playlist: Path) -> None:
    """probe answers 403 at once: the playlist's demuxer is not allowed, the FIFO untouched."""
    with pytest.raises(MediaRejected) as caught:
        inspect(playlist)
    assert (caught.value.status, caught.value.reason) == (403, "codec_not_allowed")


def test_poster_does_not_follow_a_playlist(playlist: Path, tmp_path: Path) -> None:
    """Even told it is an MP4, ffmpeg reads the playlist only as an MP4 (and fails)."""
    with pytest.raises(MediaRejected) as caught:
        poster(playlist, tmp_path / "poster.jpg", Limits(wall_seconds=10.0), at_s=0.0,
               container="mov,mp4,m4a,3gp,3g2,mj2")
    assert caught.value.reason == "malformed"
