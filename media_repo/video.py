"""Inspect uploaded video and audio with ffprobe, and cut a poster frame with ffmpeg.

Both run in the sandbox (media_repo/sandbox.py) on a file already on disk, and both are kept
to that one file: ``-protocol_whitelist file`` keeps them off the network, and
``-format_whitelist`` (the allowed containers' demuxers only) keeps out the demuxers that open
other files — an HLS playlist or an ffconcat list is otherwise followed to any local path.

``probe`` refuses what may not be stored: a container or codec outside the allow-lists, a
duration past the limit, a file ffprobe cannot read, or one whose packets stop before the
duration its header announces (truncated).

Blocking: call it from a thread, never on the reactor.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from hearth.media_repo import errors
from hearth.media_repo.sandbox import Limits, SandboxError, run_limited

# Cover art (ffprobe shows it as a video stream with disposition attached_pic): still
# pictures in these codecs are allowed in audio and video files alike.
_PICTURE_CODECS = ("mjpeg", "png")
# How far before the announced end the last packet may stop: frame and packet durations
# are not always known, so the last timestamp lags the end a little in sound files.
_TAIL_SLACK_S = 1.0
_TAIL_SLACK_SHARE = 0.02
_TAIL_READ_S = 2.0


@dataclass(frozen=True)
class AvInfo:
    """What ffprobe found in an allowed video or audio file."""

    container: str  # ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    mime: str
    duration_s: float | None
    width: int | None  # as displayed (rotation applied)
    height: int | None
    video_codec: str | None
    audio_codec: str | None
    has_video: bool  # a moving picture, not only cover art


def probe(path: Path, limits: Limits, *, containers: Sequence[str],
          video_codecs: Sequence[str], audio_codecs: Sequence[str],
          max_duration_s: float) -> AvInfo:
    """Read ``path``'s container, streams and duration; MediaRejected when it is refused."""
    if not containers:
        raise errors.forbidden("No video or audio container is allowed here", "codec_not_allowed")
    found = _ffprobe(path, limits, containers, ["-show_format", "-show_streams"])
    fmt: dict[str, Any] = found.get("format") or {}
    container = str(fmt.get("format_name", ""))
    if container not in containers:
        raise _not_allowed("container", container, containers)
    streams: list[dict[str, Any]] = found.get("streams") or []
    video = [s for s in streams if s.get("codec_type") == "video" and not _is_picture(s)]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    _check_codecs(video, "video codec", video_codecs)
    _check_codecs(audio, "audio codec", audio_codecs)
    _check_codecs([s for s in streams if s.get("codec_type") == "video" and _is_picture(s)],
                  "cover picture codec", _PICTURE_CODECS)
    if not video and not audio:
        raise errors.malformed("The video/audio file has no video or audio stream")
    duration = _number(fmt.get("duration"))
    if duration is not None and duration > max_duration_s:
        raise errors.too_large(f"The video/audio is {duration:.1f} s long; the most allowed is "
                               f"{max_duration_s:.1f} s", "duration")
    if duration is not None:
        _check_complete(path, limits, containers, _number(fmt.get("start_time")) or 0.0,
                        duration)
    width, height = _display_size(video[0]) if video else (None, None)
    return AvInfo(container=container, mime=_mime(path, container, fmt, bool(video)),
                  duration_s=duration, width=width, height=height,
                  video_codec=str(video[0].get("codec_name")) if video else None,
                  audio_codec=str(audio[0].get("codec_name")) if audio else None,
                  has_video=bool(video))


def poster(path: Path, dst: Path, limits: Limits, *, at_s: float, container: str,
           max_width: int = 1280) -> tuple[int, int]:
    """Write one JPEG frame of ``path`` (a file ``probe`` accepted as ``container``) taken at
    ``at_s`` seconds to ``dst``, at most ``max_width`` wide with the displayed aspect ratio
    kept; its (width, height)."""
    scale = f"scale=w='min({max_width},iw*sar)':h='max(2,trunc(ow/dar/2)*2)',setsar=1"
    demuxer = container.split(",")[0]
    _run(["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-filter_threads", "1",
          "-protocol_whitelist", "file", "-format_whitelist", demuxer, "-f", demuxer,
          "-ss", f"{max(at_s, 0.0):.3f}", "-i", _url(path),
          "-map", "0:V:0", "-frames:v", "1", "-an", "-sn", "-dn", "-vf", scale,
          "-q:v", "3", "-f", "mjpeg", "-y", _url(dst)], limits, _no_picture)
    if not dst.is_file() or dst.stat().st_size == 0:
        raise errors.malformed(f"No picture could be decoded from the video at {at_s:g} s")
    with Image.open(dst) as picture:
        if picture.format != "JPEG":
            raise errors.malformed("The video's poster frame could not be made")
        width, height = picture.size
    return width, height


def _ffprobe(path: Path, limits: Limits, containers: Sequence[str],
             what: list[str]) -> dict[str, Any]:
    demuxers = sorted({name for c in containers for name in c.split(",") if name})
    out = _run(["ffprobe", "-v", "error", "-protocol_whitelist", "file",
                "-format_whitelist", ",".join(demuxers), "-print_format", "json", *what,
                _url(path)], limits, _unreadable)
    try:
        found = json.loads(out)
    except ValueError:
        raise errors.malformed("The video/audio file is truncated or corrupt: ffprobe's "
                               "report could not be read") from None
    if not isinstance(found, dict):
        raise errors.malformed("The video/audio file is truncated or corrupt")
    return found


def _run(argv: list[str], limits: Limits,
         refusal: Callable[[str], errors.MediaRejected]) -> bytes:
    """``argv``'s output; past a sandbox limit 413, else ``refusal`` of the tool's reason."""
    try:
        return run_limited(argv, limits)
    except SandboxError as e:
        if e.reason != "failed":
            raise errors.too_large("The video/audio file is too costly to process",
                                   "processing_limit") from e
        # The tools end with "<input>: <why>"; the input is our path, which stays ours.
        raise refusal(e.detail.rsplit(": ", 1)[-1].strip() or "unreadable") from e


def _unreadable(why: str) -> errors.MediaRejected:
    if why == "Invalid argument":  # what ffprobe says of a format not on -format_whitelist
        return errors.forbidden("The file's container format is not an allowed video or "
                                "audio container", "codec_not_allowed")
    return errors.malformed(f"The video/audio file is truncated or corrupt: {why}")


def _no_picture(why: str) -> errors.MediaRejected:
    return errors.malformed(f"No picture could be decoded from the video: {why}")


def _check_complete(path: Path, limits: Limits, containers: Sequence[str], start: float,
                    duration: float) -> None:
    """Read the last seconds' packets: a truncated file stops short of its announced end."""
    end = start + duration
    seek = max(start, end - _TAIL_READ_S)
    found = _ffprobe(path, limits, containers,
                     ["-read_intervals", f"{seek:.3f}%",
                      "-show_entries", "packet=pts_time,duration_time"])
    ends = [(_number(p.get("pts_time")) or 0.0) + (_number(p.get("duration_time")) or 0.0)
            for p in found.get("packets") or [] if _number(p.get("pts_time")) is not None]
    last = max(ends, default=start)
    if last < end - max(_TAIL_SLACK_S, _TAIL_SLACK_SHARE * duration):
        raise errors.malformed(f"The video/audio file is truncated: its data stops at "
                               f"{last - start:.1f} s of the {duration:.1f} s it announces")


def _check_codecs(streams: list[dict[str, Any]], what: str, allowed: Sequence[str]) -> None:
    for stream in streams:
        codec = str(stream.get("codec_name") or "unknown")
        if codec not in allowed:
            raise _not_allowed(what, codec, allowed)


def _not_allowed(what: str, name: str, allowed: Sequence[str]) -> errors.MediaRejected:
    listed = "; ".join(allowed) if allowed else "none"
    return errors.forbidden(f"The {what} {name or 'unknown'!r} is not allowed (allowed: "
                            f"{listed})", "codec_not_allowed")


def _is_picture(stream: dict[str, Any]) -> bool:
    return bool((stream.get("disposition") or {}).get("attached_pic"))


def _display_size(stream: dict[str, Any]) -> tuple[int | None, int | None]:
    width, height = stream.get("width"), stream.get("height")
    if not isinstance(width, int) or not isinstance(height, int):
        return None, None
    rotation = next((side.get("rotation") for side in stream.get("side_data_list") or []
                     if "rotation" in side), (stream.get("tags") or {}).get("rotate", 0))
    if round(abs(_number(rotation) or 0.0)) % 180 == 90:
        return height, width
    return width, height


def _mime(path: Path, container: str, fmt: dict[str, Any], has_video: bool) -> str:
    kind = "video" if has_video else "audio"
    family = container.split(",")[0]
    if family == "mov":
        brand = str((fmt.get("tags") or {}).get("major_brand", "")).strip()
        if brand == "qt":
            return "video/quicktime"
        if brand.startswith("3gp"):
            return f"{kind}/3gpp"
        if brand.startswith("3g2"):
            return f"{kind}/3gpp2"
        return f"{kind}/mp4"
    if family == "matroska":
        return f"{kind}/webm" if _matroska_doctype(path) == "webm" else f"{kind}/x-matroska"
    return {"ogg": f"{kind}/ogg", "mp3": "audio/mpeg", "wav": "audio/wav",
            "flac": "audio/flac"}.get(family, f"{kind}/{family}")


def _matroska_doctype(path: Path) -> str:
    """The EBML header's DocType ("webm" or "matroska"): ffprobe names both the same."""
    with path.open("rb") as f:
        head = f.read(256)
    at = head.find(b"\x42\x82")  # the DocType element's ID
    if at < 0 or at + 3 > len(head) or not head[at + 2] & 0x80:
        return "matroska"
    size = head[at + 2] & 0x7F  # a one-byte size, as every muxer writes it
    return head[at + 3:at + 3 + size].decode("ascii", "replace")


def _number(value: object) -> float | None:
    if not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _url(path: Path) -> str:
    """The ffmpeg URL of a local file: ``file:`` so no part of the name reads as a protocol."""
    return f"file:{path.resolve()}"
