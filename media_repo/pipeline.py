"""What happens to an upload before Synapse stores it: read, check, scan, clean, describe.

One blocking function, :func:`prepare`, run from a thread for each upload: the type is read
from the content (never the declared Content-Type), checked against the allow-list of the
uploader's role, the original bytes are scanned for malware, images are checked for bombs and
stripped of EXIF/GPS with orientation applied, video and audio are probed for container,
codecs and duration and a poster frame is cut. Every refusal is a :class:`MediaRejected`;
the file Synapse then stores is :attr:`Prepared.path`, and nothing is stored when any step
refuses or fails. Encrypted attachments are opaque bytes: only size, quota, rate and the scan
apply to them.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from hearth.media_repo import errors, image_processing, sniff, video
from hearth.media_repo.errors import MediaRejected
from hearth.media_repo.info_store import MediaInfo
from hearth.media_repo.sandbox import Limits
from hearth.media_repo.scanner import ClamdScanner, ScannerUnavailable, verdict_error

HEAD_BYTES = 64 * 1024
# What Pillow can decode and re-encode without metadata (and what Synapse thumbnails).
CLEANED_IMAGES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp",
                            "image/avif"})


@dataclass(frozen=True)
class Rules:
    """The server's part of the decision (the role's part comes per upload)."""

    max_image_pixels: int
    max_image_bytes: int
    limits: Limits
    video_containers: tuple[str, ...]
    video_codecs: tuple[str, ...]
    audio_codecs: tuple[str, ...]
    max_video_duration_s: float
    scanner: ClamdScanner | None
    scan_required: bool  # scanner unreachable: refuse (True) or let through unscanned
    quarantine_dir: Path | None


@dataclass(frozen=True)
class Upload:
    """One upload as it arrived."""

    path: Path
    declared_type: str | None
    user_id: str
    role_name: str | None
    allowed_types: Sequence[str]


@dataclass
class Prepared:
    """The file to store, what it is, and how each step went (for metrics and logs)."""

    path: Path
    info: MediaInfo
    poster_path: Path | None
    scanned: bool
    stripped: bool = False  # image metadata was removed
    timings: dict[str, float] = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _timed(timings: dict[str, float], step: str, start: float) -> None:
    timings[step] = time.monotonic() - start


def _allowed(detected: sniff.Detected, upload: Upload) -> None:
    if detected.disguised:
        raise errors.malformed(
            f"The file was sent as {detected.declared} but its content is {detected.mime}: "
            "files must be what they say they are")
    if not sniff.matches(detected.mime, upload.allowed_types):
        whose = f"your role '{upload.role_name}'" if upload.role_name else "this server"
        raise errors.forbidden(
            f"Files of type {detected.mime} may not be uploaded under {whose} (allowed: "
            f"{', '.join(upload.allowed_types)})", "type_not_allowed")


def _scan(path: Path, upload: Upload, rules: Rules, sha256: str) -> bool:
    if rules.scanner is None:
        return False
    try:
        verdict = rules.scanner.scan_file(path)
    except ScannerUnavailable as e:
        if rules.scan_required:
            raise errors.unavailable(
                "Uploads are paused: the malware scanner cannot be reached. Try again later",
                "scanner_unavailable") from e
        return False
    if not verdict.clean:
        _quarantine(path, rules, sha256)
        refused = verdict_error(verdict)
        refused.sha256 = sha256
        raise refused
    return True


def _quarantine(path: Path, rules: Rules, sha256: str) -> None:
    """Keep a refused file for review, out of the media store (never served)."""
    if rules.quarantine_dir is None:
        return
    rules.quarantine_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = rules.quarantine_dir / sha256
    if not target.exists():
        shutil.copyfile(path, target)
        target.chmod(0o600)


_Processed = tuple[Path, int | None, int | None, int | None, bool, str | None, Path | None, bool]


def _process(upload: Upload, detected: sniff.Detected, rules: Rules, work: Path,
             timings: dict[str, float]) -> _Processed:
    """Clean an image or probe a video/audio file; the file to store and what it is."""
    stored = upload.path
    width = height = duration_ms = None
    animated = False
    blurhash: str | None = None
    poster: Path | None = None
    stripped = False
    start = time.monotonic()
    if detected.kind == "image" and detected.mime in CLEANED_IMAGES:
        image = image_processing.clean(upload.path, work / "cleaned", rules.limits,
                                       max_pixels=rules.max_image_pixels,
                                       max_decoded_bytes=rules.max_image_bytes)
        stored = work / "cleaned" if image.rewritten else upload.path
        width, height, animated, blurhash = (image.width, image.height, image.animated,
                                             image.blurhash)
        stripped = bool(image.stripped)
        _timed(timings, "image", start)
    elif detected.kind == "image":
        raise errors.malformed(f"Images of type {detected.mime} cannot be checked here and are "
                               "not accepted; send JPEG, PNG, GIF, WebP or AVIF")
    elif detected.kind in ("video", "audio"):
        av = video.probe(upload.path, rules.limits, containers=rules.video_containers,
                         video_codecs=rules.video_codecs, audio_codecs=rules.audio_codecs,
                         max_duration_s=rules.max_video_duration_s)
        width, height = av.width, av.height
        duration_ms = None if av.duration_s is None else round(av.duration_s * 1000)
        if av.has_video:
            poster = work / "poster.jpg"
            at = min(1.0, (av.duration_s or 0) / 2)
            video.poster(upload.path, poster, rules.limits, at_s=at, container=av.container)
        _timed(timings, "video" if av.has_video else "audio", start)
    return stored, width, height, duration_ms, animated, blurhash, poster, stripped


def prepare(upload: Upload, rules: Rules, work: Path) -> Prepared:
    """Check and process ``upload``; the file to store, or :class:`MediaRejected`."""
    timings: dict[str, float] = {}
    size = upload.path.stat().st_size
    start = time.monotonic()
    with upload.path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    detected = sniff.detect(head, upload.declared_type, size)
    _allowed(detected, upload)
    _timed(timings, "sniff", start)

    start = time.monotonic()
    original_sha = sha256_of(upload.path)
    # The scan (seconds for a large file) runs beside the decoders (sandboxed): the verdict is
    # awaited before anything is handed on, so an infected file is never stored either way.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-scan") as pool:
        scanning = pool.submit(_scan, upload.path, upload, rules, original_sha)
        try:
            processed = _process(upload, detected, rules, work, timings)
        except MediaRejected:
            scanning.result()  # an infected file is refused as infected, not as malformed
            raise
        scanned = scanning.result()
    timings["scan_and_process"] = time.monotonic() - start
    stored, width, height, duration_ms, animated, blurhash, poster, stripped = processed

    sha = original_sha if stored == upload.path else sha256_of(stored)
    info = MediaInfo(sha256=sha, mime=detected.mime, kind=detected.kind,
                     size=stored.stat().st_size, width=width, height=height,
                     duration_ms=duration_ms, animated=animated, blurhash=blurhash,
                     poster=poster is not None, created_ts=int(time.time() * 1000))
    return Prepared(stored, info, poster, scanned, stripped, timings)


__all__ = ["MediaRejected", "Prepared", "Rules", "Upload", "prepare", "sha256_of"]
