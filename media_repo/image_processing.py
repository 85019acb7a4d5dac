"""Image work as Synapse's side calls it: each file decoded in a limited child process.

:func:`clean` and :func:`thumbnail` start ``image_worker`` under :func:`sandbox.run_limited`,
so a decompression bomb or a decoder that loops costs a killed child, never Synapse's memory or
reactor. What the child says is turned into :class:`ImageInfo` / :class:`ThumbnailInfo`, and
every way it can fail into a :class:`MediaRejected` a person can act on. Blocking: call from a
thread.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from hearth.media_repo import errors
from hearth.media_repo.errors import MediaRejected
from hearth.media_repo.images import ImageInfo, Method, ThumbnailFormat, ThumbnailInfo
from hearth.media_repo.sandbox import Limits, SandboxError, python_argv, run_limited

logger = logging.getLogger(__name__)
WORKER = "hearth.media_repo.image_worker"


def _cost(error: SandboxError, limits: Limits) -> str:
    if error.reason == "memory":
        return f"it needs more than {limits.memory_bytes / (1 << 20):,.0f} MiB of memory"
    if error.reason == "cpu":
        return f"it needs more than {limits.cpu_seconds} s of processor time"
    return f"it takes longer than {limits.wall_seconds:g} s"


def _refusal(reason: str, message: str) -> MediaRejected:
    if reason == "too_large":
        return errors.too_large(message)
    if reason == "malformed":
        return errors.malformed(message)
    return MediaRejected(400, "M_INVALID_PARAM", message, "unsupported")


def _failed(detail: str) -> MediaRejected:
    logger.warning("image worker failed: %s", detail)
    return MediaRejected(400, "M_INVALID_PARAM", "The image could not be processed; it may be "
                         "damaged or use features this server does not support",
                         "processing_failed")


def _run(request: dict[str, Any], limits: Limits) -> dict[str, Any]:
    try:
        out = run_limited(python_argv(WORKER), limits, stdin=json.dumps(request).encode())
    except SandboxError as e:
        if e.reason in ("timeout", "memory", "cpu"):
            raise errors.too_large(f"The image is too costly to process: {_cost(e, limits)}",
                                   "processing_limit") from e
        raise _failed(f"{e.reason}: {e.detail}") from e
    try:
        result = json.loads(out)
    except ValueError as e:
        raise _failed(f"unreadable answer {out[:200]!r}") from e
    if not isinstance(result, dict):
        raise _failed(f"unexpected answer {out[:200]!r}")
    if "refused" in result:
        raise _refusal(str(result["refused"]), str(result.get("message", "")))
    return result


def clean(src: Path, dst: Path, limits: Limits, *, max_pixels: int,
          max_decoded_bytes: int) -> ImageInfo:
    """Check ``src`` for bombs and damage and write it to ``dst`` without metadata."""
    result = _run({"op": "clean", "src": str(src), "dst": str(dst), "max_pixels": max_pixels,
                   "max_decoded_bytes": max_decoded_bytes}, limits)
    try:
        return ImageInfo(mime=str(result["mime"]), width=int(result["width"]),
                         height=int(result["height"]), animated=bool(result["animated"]),
                         frames=int(result["frames"]), blurhash=str(result["blurhash"]),
                         rewritten=bool(result["rewritten"]),
                         stripped=tuple(str(s) for s in result["stripped"]))
    except (KeyError, TypeError, ValueError) as e:
        raise _failed(f"incomplete answer {result!r}") from e


def thumbnail(src: Path, dst: Path, limits: Limits, *, width: int, height: int,
              method: Method, fmt: ThumbnailFormat, animated: bool) -> ThumbnailInfo:
    """Write a thumbnail of ``src`` to ``dst`` (Synapse's sizing; see ``images``)."""
    result = _run({"op": "thumbnail", "src": str(src), "dst": str(dst), "width": width,
                   "height": height, "method": method, "fmt": fmt, "animated": animated},
                  limits)
    try:
        return ThumbnailInfo(mime=str(result["mime"]), width=int(result["width"]),
                             height=int(result["height"]), animated=bool(result["animated"]))
    except (KeyError, TypeError, ValueError) as e:
        raise _failed(f"incomplete answer {result!r}") from e
