"""The media pipeline as a Synapse module: registration and wiring, no decisions.

Loaded by every Synapse process (``modules:`` in homeserver.yaml); only the processes that
serve media ever see media requests (main in the ``dev`` profile, the media worker in
``production``). It puts two interceptors on the front door — uploads into the pipeline,
downloads that need a redirect, a range or a thumbnail Synapse does not make — and serves the
media-info and media admin endpoints under ``/_synapse/client/hearth/v1/media``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from synapse.module_api import ModuleApi

from hearth.media_repo.config import MediaRepoConfig, parse_config
from hearth.media_repo.download_front import DownloadFront, DownloadSettings, Offload, target
from hearth.media_repo.info_api import INFO_PREFIX, MediaInfoResource
from hearth.media_repo.info_store import LATEST, MediaInfoStore
from hearth.media_repo.pipeline import Rules
from hearth.media_repo.sandbox import Limits
from hearth.media_repo.scanner import ClamdScanner
from hearth.media_repo.thumbnails import ThumbnailMaker
from hearth.media_repo.upload_front import UploadFront, UploadSettings, is_upload
from hearth.synapse_compat import check_supported
from hearth.synapse_compat.front_door import front_door
from hearth.synapse_compat.media_serving import local_copy
from hearth.synapse_compat.web import Resource

logger = logging.getLogger(__name__)


def _rules(config: MediaRepoConfig) -> Rules:
    limits = Limits(memory_bytes=config.processing_memory,
                    cpu_seconds=max(1, config.processing_timeout_ms // 1000),
                    wall_seconds=config.processing_timeout_ms / 1000)
    scan = config.scan
    return Rules(
        max_image_pixels=config.max_image_pixels, max_image_bytes=config.max_image_bytes,
        limits=limits, video_containers=config.video_containers,
        video_codecs=config.video_codecs, audio_codecs=config.audio_codecs,
        max_video_duration_s=config.max_video_duration_ms / 1000,
        scanner=ClamdScanner(scan.clamd, scan.timeout_ms / 1000) if scan.enabled else None,
        scan_required=scan.on_unavailable == "refuse",
        quarantine_dir=Path(config.quarantine_dir) if config.quarantine_dir else None)


class MediaRepoModule:
    """Registers the media fronts and endpoints with Synapse."""

    def __init__(self, config: MediaRepoConfig, api: ModuleApi) -> None:
        self._api = api
        self._config = config
        self._store = MediaInfoStore(api.run_db_interaction)
        self._background = api.should_run_background_tasks()
        self._ready = False
        rules = _rules(config)
        derived = Path(config.derived_dir) if config.derived_dir else None
        self._uploads = UploadFront(api, self._store, rules, UploadSettings(
            server_name=config.server_name, allowed_types=config.allowed_types,
            max_upload_size=config.max_upload_size, derived_dir=derived), self._wait_ready)
        self._downloads = DownloadFront(
            api, self._store,
            DownloadSettings(config.server_name, config.download.redirects,
                             config.download.url_lifetime_ms // 1000),
            self._offload(), ThumbnailMaker(derived, rules.limits, api.defer_to_thread,
                                            lambda media_id: local_copy(api, media_id)))
        front_door(api).add("media_repo", self.intercept)
        api.register_web_resource(INFO_PREFIX, MediaInfoResource(api, self._store,
                                                                 config.server_name,
                                                                 self._wait_ready))
        if self._background:
            api.delayed_background_call(0, self._migrate, desc="hearth_media_migrate")
        logger.info("media_repo loaded: storage=%s scan=%s redirects=%s",
                    config.storage, config.scan.enabled, config.download.redirects)

    @staticmethod
    def parse_config(config: dict[str, Any]) -> MediaRepoConfig:
        """Called by Synapse before ``__init__``; a bad value stops the start."""
        check_supported("media_repo")
        return parse_config(config)

    def _offload(self) -> Offload | None:
        if self._config.storage != "s3":
            return None
        from hearth.media_repo.storage.offload import object_offload

        return object_offload(self._api, self._config.download)

    def intercept(self, segment: bytes, request: Any, chosen: Resource) -> Resource:
        """The front door's question: is this request one of ours?"""
        method = request.method or b""
        path = request.path or b""
        if segment == b"media" and is_upload(method, path):
            return self._uploads.resource(chosen)
        if segment == b"client":
            found = target(method, path, self._config.server_name)
            if found is not None and self._downloads.wants(request, found[0]):
                return self._downloads.resource(found[0], found[1], chosen)
        return chosen

    async def _migrate(self) -> None:
        before = await self._store.migrate()
        if before != LATEST:
            logger.info("media_repo: schema migrated from %d to %d", before, LATEST)
        self._ready = True

    async def _schema_ready(self) -> bool:
        try:
            return await self._store.schema_version() >= LATEST
        except Exception:  # the version table is not there yet: the migration has not run
            return False

    async def _wait_ready(self) -> None:
        """Until the tables are there: migrated here, or by the background process."""
        for _ in range(100):
            if self._ready:
                return
            if not self._background and await self._schema_ready():
                self._ready = True
                return
            await self._api.sleep(0.1)
        from synapse.api.errors import Codes, SynapseError

        raise SynapseError(503, "The media repository is starting; try again shortly",
                           Codes.UNKNOWN)
