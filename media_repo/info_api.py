"""What a client and an admin can ask of the media pipeline, under
``/_synapse/client/hearth/v1/media``.

    GET  .../info/<server>/<media_id>     any user: type, size, dimensions, duration,
                                          blurhash, animated (local media)
    GET  .../admin/usage?user_id=...      admins: files and bytes a user stores
    GET  .../admin/usage?room_id=...      admins: files and bytes a room's events refer to
    GET  .../admin/stats                  admins: all local media, distinct contents (dedup)
    GET  .../admin/refused?before_ts=&limit=   admins: uploads refused as malware

Errors are Matrix errors: 401 without a token, 403 for a non-admin on admin paths, 404 for
unknown media (quarantined media included) or paths, 400 for a malformed parameter.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from synapse.api.errors import Codes, NotFoundError, SynapseError
from synapse.module_api import ModuleApi

from hearth.media_repo.info_store import MediaInfoStore
from hearth.media_repo.storage import runtime as storage_runtime
from hearth.synapse_compat.media_serving import local_media_in_room
from hearth.synapse_compat.media_tables import (
    local_media_txn,
    media_sizes_txn,
    media_totals_txn,
    media_usage_by_user_txn,
)
from hearth.synapse_compat.web import DirectServeJsonResource, SynapseRequest

INFO_PREFIX = "/_synapse/client/hearth/v1/media"
MAX_LIMIT = 1000


def _arg(request: SynapseRequest, name: str) -> str | None:
    values = (request.args or {}).get(name.encode())
    return values[0].decode("utf-8", "replace") if values else None


def _int_arg(request: SynapseRequest, name: str, default: int | None, low: int, high: int
             ) -> int | None:
    raw = _arg(request, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SynapseError(400, f"{name} must be a whole number, got {raw!r}",
                           Codes.INVALID_PARAM) from None
    if not low <= value <= high:
        raise SynapseError(400, f"{name} must be between {low} and {high}, got {value}",
                           Codes.INVALID_PARAM)
    return value


class MediaInfoResource(DirectServeJsonResource):
    """The media-info endpoint and the media admin endpoints."""

    isLeaf = True

    def __init__(self, api: ModuleApi, store: MediaInfoStore, server_name: str,
                 ready: Callable[[], Awaitable[None]]) -> None:
        super().__init__()
        self._api = api
        self._store = store
        self._server_name = server_name
        self._ready = ready

    async def _async_render_GET(self, request: SynapseRequest) -> tuple[int, Any]:
        requester = await self._api.get_user_by_req(request)
        parts = [urllib.parse.unquote(p.decode("utf-8", "replace"))
                 for p in (request.postpath or [])]
        await self._ready()
        if len(parts) == 3 and parts[0] == "info":
            return 200, await self._info(parts[1], parts[2])
        if len(parts) == 2 and parts[0] == "admin":
            if not await self._api.is_user_admin(requester.user.to_string()):
                raise SynapseError(403, "Only server admins may use the media admin API",
                                   Codes.FORBIDDEN)
            if parts[1] == "usage":
                return 200, await self._usage(request)
            if parts[1] == "stats":
                return 200, await self._stats()
            if parts[1] == "refused":
                return 200, await self._refused(request)
        raise NotFoundError("Unknown media API path")

    async def _info(self, server: str, media_id: str) -> dict[str, Any]:
        if server != self._server_name:
            raise NotFoundError("Media info is kept for this server's media only")
        media = await self._api.run_db_interaction("hearth_media_local", local_media_txn,
                                                   media_id)
        if media is None or media.quarantined:
            raise NotFoundError("Unknown media")
        if media.media_length is None:
            raise SynapseError(404, "The media has not been uploaded yet",
                               Codes.NOT_YET_UPLOADED)
        body: dict[str, Any] = {"content_uri": f"mxc://{server}/{media_id}",
                                "mimetype": media.media_type, "size": media.media_length}
        info = await self._store.get_info(media.sha256) if media.sha256 else None
        if info is not None:
            body.update({"kind": info.kind, "mimetype": info.mime, "width": info.width,
                         "height": info.height, "duration_ms": info.duration_ms,
                         "animated": info.animated, "blurhash": info.blurhash,
                         "has_thumbnail": info.kind == "image" or info.poster})
        return body

    async def _stats(self) -> dict[str, Any]:
        files, total, distinct = await self._api.run_db_interaction(
            "hearth_media_totals", media_totals_txn)
        body: dict[str, Any] = {"files": files, "bytes": total, "distinct_contents": distinct}
        objects = storage_runtime.current()
        if objects is not None:  # object storage: what the bucket really holds
            totals = await objects.tables.totals()
            body["object_storage"] = {"files": totals.mappings,
                                      "logical_bytes": totals.logical_bytes,
                                      "objects": totals.blobs,
                                      "stored_bytes": totals.physical_bytes}
        return body

    async def _usage(self, request: SynapseRequest) -> dict[str, Any]:
        user_id, room_id = _arg(request, "user_id"), _arg(request, "room_id")
        if (user_id is None) == (room_id is None):
            raise SynapseError(400, "Give exactly one of user_id or room_id",
                               Codes.MISSING_PARAM)
        if user_id is not None:
            files, total = await self._api.run_db_interaction(
                "hearth_media_usage_user", media_usage_by_user_txn, user_id)
            return {"user_id": user_id, "files": files, "bytes": total}
        assert room_id is not None
        if not room_id.startswith("!") or len(room_id) > 255 or not room_id.isprintable():
            raise SynapseError(400, f"room_id must be a room ID (starting with !), got "
                               f"{room_id!r}", Codes.INVALID_PARAM)
        media_ids = await local_media_in_room(self._api, room_id)
        files, total = await self._api.run_db_interaction(
            "hearth_media_usage_room", media_sizes_txn, media_ids)
        return {"room_id": room_id, "files": files, "bytes": total}

    async def _refused(self, request: SynapseRequest) -> dict[str, Any]:
        before = _int_arg(request, "before_ts", None, 0, 2**62)
        limit = _int_arg(request, "limit", 100, 1, MAX_LIMIT) or 100
        refusals = await self._store.list_refusals(before, limit)
        body: dict[str, Any] = {"refused": [r.as_dict() for r in refusals]}
        if len(refusals) == limit:
            body["next_before_ts"] = refusals[-1].refused_ts
        return body
