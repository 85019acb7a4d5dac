"""Downloads and thumbnails of local media that Synapse cannot answer the way clients ask.

The front door hands ``GET /_matrix/client/v1/media/{download,thumbnail}/<server>/<id>`` here;
only local media is considered (remote media stays Synapse's). Four cases leave through us,
everything else goes to Synapse's servlet unchanged:

- ``allow_redirect=true`` on a download of a file in object storage: ``307`` to a short-lived
  signed URL (the bucket's presigned URL, or the CDN edge's ``secure_link`` URL);
- a single ``Range`` on a download: ``206`` with that slice (Synapse ignores Range);
- a thumbnail of a video: its poster frame, scaled as asked;
- a thumbnail whose client accepts AVIF or WebP (its ``Accept`` header): that format;
- a thumbnail of an image Synapse cannot decode (AVIF): a JPEG.

Each first authenticates the requester (the v1 endpoints need a token, as in Synapse) and reads
the media's row as Synapse would: unknown, quarantined or not yet uploaded media is never served
nor redirected (404 ``M_NOT_FOUND`` / 404 ``M_NOT_YET_UPLOADED``).
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

from synapse.api.errors import Codes, SynapseError
from synapse.module_api import ModuleApi

from hearth.media_repo import metrics
from hearth.media_repo.byte_ranges import ByteRange, parse_range
from hearth.media_repo.info_store import MediaInfo, MediaInfoStore
from hearth.media_repo.thumbnails import ThumbnailMaker, ThumbnailRequest, preferred_format
from hearth.synapse_compat.deferred_render import render_after
from hearth.synapse_compat.media_serving import local_copy, send_file, set_file_headers
from hearth.synapse_compat.media_tables import LocalMedia, local_media_txn
from hearth.synapse_compat.web import Resource

logger = logging.getLogger(__name__)

DOWNLOAD_PATH = re.compile(
    rb"^/_matrix/client/v1/media/download/(?P<server>[^/]+)/(?P<media_id>[^/]+)(/[^/]*)?$")
THUMBNAIL_PATH = re.compile(
    rb"^/_matrix/client/v1/media/thumbnail/(?P<server>[^/]+)/(?P<media_id>[^/]+)$")


# What Synapse's own thumbnailer decodes (since the 2024 CVE fix); others are ours to make.
SYNAPSE_THUMBNAILS = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


class Offload(Protocol):
    """Where a stored file can be fetched from directly (object storage, a CDN edge)."""

    async def signed_url(self, media: LocalMedia, lifetime_s: int) -> str | None: ...


@dataclass(frozen=True)
class DownloadSettings:
    server_name: str
    redirects: bool
    url_lifetime_s: int


def _arg(request: Any, name: str) -> str | None:
    values = (request.args or {}).get(name.encode())
    return values[0].decode("utf-8", "replace") if values else None


def _header(request: Any, name: bytes) -> str | None:
    values = request.requestHeaders.getRawHeaders(name)
    if not values:
        return None
    value = values[0]
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def target(method: bytes, path: bytes, server_name: str) -> tuple[str, str] | None:
    """("download" | "thumbnail", media ID) when the request is ours to look at."""
    if method not in (b"GET", b"HEAD"):
        return None
    for kind, pattern in (("download", DOWNLOAD_PATH), ("thumbnail", THUMBNAIL_PATH)):
        found = pattern.match(path)
        if found is None:
            continue
        server = urllib.parse.unquote(found.group("server").decode("utf-8", "replace"))
        if server != server_name:
            return None
        return kind, urllib.parse.unquote(found.group("media_id").decode("utf-8", "replace"))
    return None


class DownloadFront:
    """Decides, per request, whether the answer is ours or Synapse's."""

    def __init__(self, api: ModuleApi, store: MediaInfoStore, settings: DownloadSettings,
                 offload: Offload | None, thumbnails: ThumbnailMaker) -> None:
        self._api = api
        self._store = store
        self._settings = settings
        self._offload = offload
        self._thumbnails = thumbnails

    def wants(self, request: Any, kind: str) -> bool:
        """Cheap, before any I/O: could this request be one we answer?"""
        if kind == "thumbnail":
            return True  # the media's kind and the Accept header decide, after the lookup
        if _arg(request, "allow_redirect") == "true" and self._settings.redirects \
                and self._offload is not None:
            return True
        return _header(request, b"range") is not None

    def resource(self, kind: str, media_id: str, synapse_child: Resource) -> Resource:
        return _DeferredDownload(self, kind, media_id, synapse_child)

    async def handle(self, request: Any, kind: str, media_id: str,
                     synapse_child: Resource) -> Resource | None:
        await self._api.get_user_by_req(request)  # 401 M_MISSING_TOKEN etc., as Synapse's
        media = await self._api.run_db_interaction("hearth_media_local", local_media_txn,
                                                   media_id)
        if media is None or media.quarantined:
            # Synapse answers these itself (404 M_NOT_FOUND, quarantine included); nothing of
            # ours may redirect to or stream them.
            return synapse_child
        if media.media_length is None:
            return synapse_child  # not yet uploaded: Synapse waits or answers 404
        if kind == "download":
            return await self._download(request, media, synapse_child)
        return await self._thumbnail(request, media, synapse_child)

    async def _download(self, request: Any, media: LocalMedia,
                        synapse_child: Resource) -> Resource | None:
        if (_arg(request, "allow_redirect") == "true" and self._settings.redirects
                and self._offload is not None):
            url = await self._offload.signed_url(media, self._settings.url_lifetime_s)
            if url is not None:
                metrics.DOWNLOADS.labels(self._settings.server_name, "redirect").inc()
                request.setResponseCode(307)
                request.setHeader(b"Location", url.encode("ascii"))
                request.setHeader(b"Cache-Control", b"no-store")
                request.setHeader(b"Content-Length", b"0")
                request.finish()
                return None
        header = _header(request, b"range")
        if header is None or media.media_length is None:
            metrics.DOWNLOADS.labels(self._settings.server_name, "synapse").inc()
            return synapse_child
        wanted = parse_range(header, media.media_length)
        if wanted is None:
            return synapse_child  # not a single byte range we understand: the whole file
        await self._send_range(request, media, wanted)
        return None

    async def _send_range(self, request: Any, media: LocalMedia, wanted: ByteRange) -> None:
        size = media.media_length or 0
        if not wanted.satisfiable:
            request.setResponseCode(416)
            request.setHeader(b"Content-Range", f"bytes */{size}".encode())
            raise SynapseError(416, f"The range {wanted.text!r} is outside the file "
                               f"({size} bytes)", Codes.INVALID_PARAM)
        async with local_copy(self._api, media.media_id) as path:
            with Path(path).open("rb") as handle:
                handle.seek(wanted.start)
                set_file_headers(request, media.media_type, wanted.length, media.upload_name)
                request.setResponseCode(206)
                request.setHeader(b"Accept-Ranges", b"bytes")
                request.setHeader(b"Content-Range",
                                  f"bytes {wanted.start}-{wanted.end}/{size}".encode())
                metrics.DOWNLOADS.labels(self._settings.server_name, "range").inc()
                metrics.DOWNLOAD_BYTES.labels(self._settings.server_name).inc(wanted.length)
                if request.method == b"HEAD":
                    request.finish()
                    return
                await send_file(self._api, request,
                                cast(BinaryIO, _Limited(handle, wanted.length)))

    async def _thumbnail(self, request: Any, media: LocalMedia,
                         synapse_child: Resource) -> Resource | None:
        info = await self._info(media)
        if info is None:
            return synapse_child
        fmt = preferred_format(_header(request, b"accept"))
        if fmt is None and info.kind == "image" and info.mime not in SYNAPSE_THUMBNAILS:
            fmt = "jpeg"  # Synapse cannot thumbnail it (AVIF): a JPEG every client shows
        is_video = info.kind == "video" and info.poster
        if not is_video and (fmt is None or info.kind != "image"):
            return synapse_child
        wanted = ThumbnailRequest.from_args(
            _arg(request, "width"), _arg(request, "height"), _arg(request, "method"),
            _arg(request, "animated") == "true", fmt or "jpeg")
        made = await self._thumbnails.get(media, info, wanted)
        if made is None:
            return synapse_child
        how = "poster" if is_video else f"thumbnail_{wanted.fmt}"
        metrics.DOWNLOADS.labels(self._settings.server_name, how).inc()
        set_file_headers(request, made.mime, made.path.stat().st_size, None)
        request.setHeader(b"Vary", b"Accept")
        with made.path.open("rb") as handle:
            if request.method == b"HEAD":
                request.finish()
                return None
            await send_file(self._api, request, handle)
        return None

    async def _info(self, media: LocalMedia) -> MediaInfo | None:
        if media.sha256 is None:
            return None
        return await self._store.get_info(media.sha256)


class _Limited:
    """A file object that ends after ``length`` bytes (one range of a file)."""

    def __init__(self, handle: Any, length: int) -> None:
        self._handle = handle
        self._left = length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if size < 0 else min(size, self._left)
        data: bytes = self._handle.read(want)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._handle.close()


class _DeferredDownload(Resource):
    """A leaf standing in for Synapse's client resource for one download request."""

    isLeaf = True

    def __init__(self, front: DownloadFront, kind: str, media_id: str,
                 synapse_child: Resource) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._front = front
        self._kind = kind
        self._media_id = media_id
        self._child = synapse_child

    def render(self, request: Any) -> int:
        return render_after(
            request, lambda: self._front.handle(request, self._kind, self._media_id,
                                                self._child), "media_repo")
