"""Synapse's media-serving pieces the download front reuses, so its answers match Synapse's.

- ``add_file_headers`` (synapse/media/_base.py): Content-Type (charset for text), the
  Content-Disposition rule (inline only for the types Element deems safe, SVG never; RFC 5987
  file names) and the cache headers, exactly as Synapse's own downloads.
- ``ThreadedFileSender``: streams a file object to the response from Synapse's media sender
  thread pool, with back-pressure, so reading never blocks the reactor.
- ``MediaStorage.ensure_media_is_in_local_cache``: the local path of a media file, fetched
  from the storage providers first when the local store no longer has it.
- ``MediaFilePaths.local_media_filepath_rel``: where Synapse keeps a local media file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, BinaryIO

from synapse.media._base import FileInfo, ThreadedFileSender, add_file_headers
from synapse.media.filepath import MediaFilePaths

# Synapse's Content-Security-Policy for media downloads (synapse/rest/client/media.py).
MEDIA_CSP = (b"sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; "
             b"style-src 'unsafe-inline'; media-src 'self'; object-src 'self';")


def homeserver_of(api: Any) -> Any:
    """The HomeServer behind a ModuleApi (Synapse keeps it as ``_hs``)."""
    return api._hs


def set_file_headers(request: Any, media_type: str, size: int | None,
                     upload_name: str | None) -> None:
    """Synapse's download headers, plus the media CSP and CORP it sets on its servlets."""
    add_file_headers(request, media_type, size, upload_name)
    request.setHeader(b"Content-Security-Policy", MEDIA_CSP)
    request.setHeader(b"X-Content-Security-Policy", b"sandbox;")
    request.setHeader(b"Referrer-Policy", b"no-referrer")
    request.setHeader(b"Cross-Origin-Resource-Policy", b"cross-origin")
    request.setHeader(b"X-Content-Type-Options", b"nosniff")


async def send_file(api: Any, request: Any, handle: BinaryIO) -> None:
    """Stream ``handle`` to ``request`` from Synapse's media thread pool, then finish it."""
    sender = ThreadedFileSender(homeserver_of(api))
    await sender.beginFileTransfer(handle, request)
    if not request.finished:
        request.finish()


def local_media_path(api: Any, media_id: str) -> str:
    """The path of a local media file, as Synapse stores it."""
    paths = MediaFilePaths(homeserver_of(api).config.media.media_store_path)
    return str(paths.local_media_filepath(media_id))


@asynccontextmanager
async def local_copy(api: Any, media_id: str) -> AsyncIterator[str]:
    """The local path of a local media file, fetched from the storage providers if needed."""
    storage = homeserver_of(api).get_media_repository().media_storage
    async with storage.ensure_media_is_in_local_cache(FileInfo(None, media_id)) as path:
        yield path


async def local_media_in_room(api: Any, room_id: str) -> list[str]:
    """IDs of the local media a room's events refer to (Synapse's own list, used by its
    quarantine-room admin API)."""
    store = homeserver_of(api).get_datastores().main
    local_mxcs, _remote = await store.get_media_mxcs_in_room(room_id)
    return [str(mxc).rsplit("/", 1)[-1] for mxc in local_mxcs]
