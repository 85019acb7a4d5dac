"""Uploads pass through the pipeline before Synapse's upload servlet stores them.

The front door hands ``POST /_matrix/media/{r0,v1,v3}/upload`` and
``PUT /_matrix/media/v3/upload/<server>/<media_id>`` here. The uploader is authenticated, the
role's cheap checks (may upload at all, largest file) run before any byte is inspected, the
body is copied to a private work directory and :func:`pipeline.prepare` runs in a thread; then
the request's body, ``Content-Length`` and ``Content-Type`` are replaced with the prepared file
and Synapse's own servlet handles the request as usual — its size, quota and rate-limit checks
(the access policy's media callbacks), its storage providers, its database row and its answer.
A refusal anywhere answers with a Matrix error and nothing reaches Synapse's store.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from synapse.api.errors import SynapseError
from synapse.module_api import ModuleApi

from hearth.media_repo import metrics
from hearth.media_repo.errors import MediaRejected
from hearth.media_repo.info_store import MediaInfoStore, Refusal
from hearth.media_repo.pipeline import Prepared, Rules, Upload, prepare
from hearth.synapse_compat.deferred_render import render_after
from hearth.synapse_compat.web import Resource
from hearth.synapse_modules.access_policy import may_upload_media
from hearth.synapse_modules.access_policy import runtime as policy_runtime

logger = logging.getLogger(__name__)

UPLOAD_PATH = re.compile(rb"^/_matrix/media/(r0|v1|v3)/upload$")
ASYNC_UPLOAD_PATH = re.compile(rb"^/_matrix/media/v3/upload/[^/]*/[^/]*$")
COPY_CHUNK = 1 << 20


def is_upload(method: bytes, path: bytes) -> bool:
    """Whether Synapse would route this request to one of its upload servlets."""
    return ((method == b"POST" and UPLOAD_PATH.match(path) is not None)
            or (method == b"PUT" and ASYNC_UPLOAD_PATH.match(path) is not None))


@dataclass(frozen=True)
class UploadSettings:
    """What the front needs besides the pipeline's rules."""

    server_name: str
    allowed_types: tuple[str, ...]
    max_upload_size: int
    derived_dir: Path | None


def _content_length(request: Any) -> int | None:
    raw = request.getHeader("Content-Length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _copy_body(request: Any, target: Path) -> int:
    """Copy the received body (a temporary file or buffer) to ``target``; bytes copied."""
    content: IO[bytes] = request.content
    content.seek(0)
    copied = 0
    with target.open("wb") as out:
        while chunk := content.read(COPY_CHUNK):
            out.write(chunk)
            copied += len(chunk)
    return copied


class UploadFront:
    """Prepares uploads, then hands them to Synapse's servlet."""

    def __init__(self, api: ModuleApi, store: MediaInfoStore, rules: Rules,
                 settings: UploadSettings, ready: Callable[[], Awaitable[None]]) -> None:
        self._api = api
        self._ready = ready
        self._store = store
        self._rules = rules
        self._settings = settings

    def resource(self, synapse_child: Resource) -> Resource:
        return _DeferredUpload(self, synapse_child)

    async def handle(self, request: Any, synapse_child: Resource) -> Resource | None:
        length = _content_length(request)
        if length is None or length > self._settings.max_upload_size:
            return synapse_child  # Synapse's own answer (400 / 413) for these
        requester = await self._api.get_user_by_req(request)
        user_id = requester.user.to_string()
        await self._ready()
        role = await policy_runtime.role_of(user_id)
        allowed = self._settings.allowed_types
        if role is not None:
            decision = may_upload_media(role, size=length, used=0)
            if not decision.allowed:
                metrics.UPLOADS_REFUSED.labels(self._settings.server_name,
                                               decision.permission or "policy").inc()
                raise SynapseError(decision.status, decision.message, decision.errcode)
            media = role.permissions.media
            allowed = media.allowed_types if media.allowed_types is not None else allowed
        work = Path(tempfile.mkdtemp(prefix="hearth-upload-"))
        request.notifyFinish().addBoth(lambda _: shutil.rmtree(work, ignore_errors=True))
        original = work / "original"
        await self._api.defer_to_thread(_copy_body, request, original)
        declared = request.getHeader("Content-Type")
        upload = Upload(original, declared, user_id, role.name if role else None, allowed)
        started = time.monotonic()
        try:
            prepared: Prepared = await self._api.defer_to_thread(prepare, upload, self._rules,
                                                                 work)
        except MediaRejected as e:
            await self._refused(e, upload, length)
            raise SynapseError(e.status, e.message, e.errcode) from None
        metrics.observe_prepared(self._settings.server_name, prepared,
                                 time.monotonic() - started)
        await self._store.put_info(prepared.info)
        if prepared.poster_path is not None and self._settings.derived_dir is not None:
            await self._api.defer_to_thread(_keep_poster, prepared, self._settings.derived_dir)
        _replace_body(request, prepared)
        return synapse_child

    async def _refused(self, e: MediaRejected, upload: Upload, length: int) -> None:
        metrics.UPLOADS_REFUSED.labels(self._settings.server_name, e.reason).inc()
        logger.info("media_repo: refused an upload by %s (%s): %s", upload.user_id, e.reason,
                    e.message)
        if e.reason != "infected":
            return
        metrics.SCANS.labels(self._settings.server_name, "infected").inc()
        sha = e.sha256 or ""
        await self._store.add_refusal(Refusal(sha, upload.user_id, e.reason, e.message, length,
                                              int(time.time() * 1000)))


def poster_path(derived_dir: Path, sha256: str) -> Path:
    """Where the poster frame of the video whose stored bytes hash to ``sha256`` is kept."""
    return derived_dir / "posters" / sha256[:2] / f"{sha256}.jpg"


def _keep_poster(prepared: Prepared, derived_dir: Path) -> None:
    assert prepared.poster_path is not None
    target = poster_path(derived_dir, prepared.info.sha256)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copyfile(prepared.poster_path, target)


def _replace_body(request: Any, prepared: Prepared) -> None:
    """Synapse's servlet reads the prepared file, its length and its real type."""
    old = request.content
    handle = prepared.path.open("rb")
    request.content = handle
    request.notifyFinish().addBoth(lambda _: handle.close())
    if old is not None:
        old.close()
    headers = request.requestHeaders
    headers.setRawHeaders(b"Content-Length", [str(prepared.info.size).encode()])
    headers.setRawHeaders(b"Content-Type", [prepared.info.mime.encode()])


class _DeferredUpload(Resource):
    """A leaf standing in for Synapse's media resource for one upload request."""

    isLeaf = True

    def __init__(self, front: UploadFront, synapse_child: Resource) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._front = front
        self._child = synapse_child

    def render(self, request: Any) -> int:
        return render_after(request, lambda: self._front.handle(request, self._child),
                            "media_repo")


