"""Signed URLs of stored media, for ``allow_redirect=true`` downloads (MSC3860).

Either the bucket's own presigned URL (S3 SigV4: short-lived, answering with Synapse's own
Content-Type, Content-Disposition and Cache-Control for the file), or, when a media edge is
configured, the edge's nginx ``secure_link`` URL of the object (media_repo/edge_signing.py).
None when the file is not in object storage, is stored encrypted (the store holds
ciphertext) or the backend has no URLs: the download is then streamed.
"""

from __future__ import annotations

import time
from pathlib import Path

from synapse.module_api import ModuleApi

from hearth.media_repo import edge_signing
from hearth.media_repo.config import DownloadConfig
from hearth.media_repo.storage import runtime
from hearth.media_repo.storage.media_objects import MediaObjects
from hearth.synapse_compat.media_storage import local_media_rel_path, synapse_file_headers
from hearth.synapse_compat.media_tables import LocalMedia


class ObjectOffload:
    """Redirect targets for local media stored by this process's provider."""

    def __init__(self, download: DownloadConfig) -> None:
        self._cdn_base_url = download.cdn_base_url
        self._secret: bytes | None = None
        if download.cdn_base_url and download.url_key_path:
            self._secret = edge_signing.secret_from_file_text(
                Path(download.url_key_path).read_text(encoding="utf-8"))

    async def signed_url(self, media: LocalMedia, lifetime_s: int) -> str | None:
        """A URL valid for ``lifetime_s`` seconds of the local media ``media``, or None to
        stream it."""
        objects = runtime.current()
        if objects is None:
            return None
        path = local_media_rel_path(media.media_id)
        if self._cdn_base_url:
            return await self._edge_url(objects, path, lifetime_s)
        headers = synapse_file_headers(media.media_type, media.upload_name)
        return await objects.presign(
            path, lifetime_s, content_type=headers["Content-Type"],
            content_disposition=headers["Content-Disposition"],
            cache_control=headers["Cache-Control"])

    async def _edge_url(self, objects: MediaObjects, path: str, lifetime_s: int) -> str | None:
        if self._secret is None:
            return None
        blob = await objects.tables.blob_of_path(path)
        if blob is None or blob.encrypted:
            return None
        key = objects.key_of(blob.sha256).removeprefix(objects.prefix)
        expires = int(time.time()) + lifetime_s
        return edge_signing.sign(self._cdn_base_url, edge_signing.edge_path(key),
                                 self._secret, expires)


def object_offload(api: ModuleApi, download: DownloadConfig) -> ObjectOffload:
    """The media module's offload when storage is object storage."""
    return ObjectOffload(download)
