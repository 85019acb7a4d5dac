"""What a media storage provider needs of Synapse beyond the module API.

A provider is built by Synapse's media repository with the ``HomeServer`` itself, not a
``ModuleApi``, and is handed Synapse's ``FileInfo`` records; it answers ``fetch`` with a
``Responder``. These helpers keep those internals here:

- ``module_api_of``: a ``ModuleApi`` for the provider (``HomeServer.get_module_api``), so it
  reaches the database, threads and timers through the documented module API.
- ``runs_media_background_jobs``: whether this process is the one Synapse runs media
  background jobs on (``media_instance_running_background_jobs``, or any process when unset),
  the rule of Synapse's own media repository (synapse/media/media_repository.py).
- ``describe_file``: the fields of a ``FileInfo`` (synapse/media/_base.py).
- ``file_responder``: Synapse's ``FileResponder`` around any file-like reader: it streams
  from the media sender thread pool with back-pressure and closes the reader when done.
- ``local_media_rel_path``: where Synapse keeps a local media file, relative to the media
  store (``MediaFilePaths.local_media_filepath_rel``): the path the provider is given.
- ``synapse_file_headers``: the Content-Type, Content-Disposition and Cache-Control Synapse's
  own download would send (``add_file_headers``), for presigned URLs to answer with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from synapse.media._base import add_file_headers
from synapse.media.filepath import MediaFilePaths
from synapse.media.media_storage import FileResponder
from synapse.module_api import ModuleApi


@dataclass(frozen=True)
class FileDescription:
    """What a ``FileInfo`` says: origin (None: local), file ID, URL-preview file, thumbnail
    (width, height, type, method)."""

    server_name: str | None
    file_id: str
    url_cache: bool
    thumbnail: tuple[int, int, str, str] | None


def module_api_of(hs: Any) -> ModuleApi:
    """A ModuleApi over the HomeServer Synapse built the provider with."""
    api: ModuleApi = hs.get_module_api()
    return api


def runs_media_background_jobs(hs: Any) -> bool:
    """Whether this process runs the media background jobs (Synapse's own rule)."""
    instance = hs.config.media.media_instance_running_background_jobs
    return instance is None or instance == hs.get_instance_name()


def describe_file(file_info: Any) -> FileDescription:
    """The fields of Synapse's FileInfo that say which file it is."""
    thumbnail = file_info.thumbnail
    return FileDescription(
        server_name=file_info.server_name, file_id=str(file_info.file_id),
        url_cache=bool(file_info.url_cache),
        thumbnail=None if thumbnail is None else (
            int(thumbnail.width), int(thumbnail.height), str(thumbnail.type),
            str(thumbnail.method)))


def file_responder(hs: Any, reader: BinaryIO) -> Any:
    """A Responder streaming ``reader`` (closed when the response is done)."""
    return FileResponder(hs, reader)


def local_media_rel_path(media_id: str) -> str:
    """``local_content/ab/cd/ef...``: the provider's path of a local media file."""
    return str(MediaFilePaths("/").local_media_filepath_rel(media_id))


class _HeaderRecorder:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}

    def setHeader(self, name: bytes, value: bytes | str) -> None:  # Twisted's name
        self.headers[name.decode("ascii")] = (value.decode("ascii") if isinstance(value, bytes)
                                              else value)


def synapse_file_headers(media_type: str, upload_name: str | None) -> dict[str, str]:
    """The headers Synapse's download of such a file sends (Content-Type with charset for
    text, Content-Disposition inline only for safe types, Cache-Control)."""
    recorder = _HeaderRecorder()
    add_file_headers(recorder, media_type, None, upload_name)  # type: ignore[arg-type]
    return recorder.headers
