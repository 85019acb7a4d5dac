"""The Synapse media storage provider: Synapse's files into content-addressed object storage.

Configured as ``media_storage_providers: [{module: hearth.media_repo.storage.provider.
ObjectStorageProvider, store_local: true, store_remote: true, store_synchronous: true,
config: {...}}]`` (hearth renders it). With ``store_synchronous`` an upload waits for
``store_file``; when it raises, Synapse removes the local file and writes no media row, so a
failed store never leaves a media ID pointing at nothing. The failure reaches the client as
``503 M_UNKNOWN`` with a message saying to try again.

Every process that serves media builds one; the schema migration and the reconciler run on
the one that runs media background jobs, the cache bound on each. Blocking work (hashing,
boto3) runs on Synapse's thread pool; downloads stream from its media sender thread pool.
"""

from __future__ import annotations

import logging
from typing import Any

from synapse.api.errors import Codes, SynapseError

from hearth.media_repo.storage import runtime
from hearth.media_repo.storage.blobs import LATEST, BlobTables, MediaRef, Thumbnail
from hearth.media_repo.storage.config import StorageConfig
from hearth.media_repo.storage.local_cache import LocalCache
from hearth.media_repo.storage.media_objects import MediaObjects, StorageUnavailable, now_ms
from hearth.media_repo.storage.reconciler import Reconciler, ReconcileReport
from hearth.synapse_compat import check_supported
from hearth.synapse_compat.media_storage import (
    describe_file,
    file_responder,
    module_api_of,
    runs_media_background_jobs,
)

logger = logging.getLogger(__name__)

SCHEMA_POLL_MS = 1000
CACHE_INTERVAL_MS = 60_000
READY_TIMEOUT_S = 15.0
UNAVAILABLE = "The media store is unavailable right now; try again in a moment"


class ObjectStorageProvider:
    """Synapse's StorageProvider interface: ``store_file`` and ``fetch``."""

    def __init__(self, hs: Any, config: StorageConfig) -> None:
        self._hs = hs
        self._config = config
        api = module_api_of(hs)
        self._api = api
        self._server_name = config.server_name
        self._tables = BlobTables(api.run_db_interaction)
        self.objects = MediaObjects(
            store=config.object_store(), tables=self._tables,
            media_store_path=config.media_store_path, prefix=config.prefix,
            key=config.encryption_key, in_thread=api.defer_to_thread, sleep=api.sleep,
            server_name=config.server_name)
        self._cache = LocalCache(config.media_store_path, config.local_cache_max_bytes,
                                 self._tables.mapped_paths, api.defer_to_thread,
                                 config.server_name)
        self._reconciler = Reconciler(
            run=api.run_db_interaction, tables=self._tables, store=self.objects.store,
            prefix=config.prefix, media_store_path=config.media_store_path,
            grace_ms=config.orphan_grace_ms, in_thread=api.defer_to_thread, clock=now_ms,
            server_name=config.server_name)
        self._background = runs_media_background_jobs(hs)
        self._ready = False
        runtime.register(self.objects)
        # The schema: migrated by the media-jobs process (at once, then retried each second
        # until it worked), waited for by the others.
        api.delayed_background_call(0, self._prepare, desc="hearth_media_storage_prepare")
        api.looping_background_call(self._prepare, SCHEMA_POLL_MS,
                                    desc="hearth_media_storage_prepare",
                                    run_on_all_instances=True)
        if self._background:
            api.looping_background_call(self._reconcile, config.reconcile_interval_ms,
                                        desc="hearth_media_storage_reconcile",
                                        run_on_all_instances=True)
        api.looping_background_call(self._evict, CACHE_INTERVAL_MS,
                                    desc="hearth_media_storage_evict", run_on_all_instances=True)
        logger.info("media storage: %r, prefix %r, encryption %s, local cache bound %d bytes, "
                    "background jobs %s", self.objects.store, config.prefix,
                    "on" if config.encryption_key else "off", config.local_cache_max_bytes,
                    self._background)

    def __str__(self) -> str:
        return f"ObjectStorageProvider[{self.objects.store!r}]"

    @staticmethod
    def parse_config(config: dict[str, Any]) -> StorageConfig:
        """Called by Synapse on every process reading the config; a bad value stops it."""
        check_supported("media storage provider")
        return StorageConfig.parse(config)

    # --- Synapse's StorageProvider interface ------------------------------------------------

    async def store_file(self, path: str, file_info: Any) -> None:
        """Store the file Synapse just wrote at ``path``; raising fails the upload."""
        described = describe_file(file_info)
        if described.url_cache:
            return
        thumbnail = Thumbnail(*described.thumbnail) if described.thumbnail else None
        ref = MediaRef(described.server_name or "", described.file_id, thumbnail)
        await self._wait_ready()
        try:
            stored = await self.objects.store_file(path, ref)
        except StorageUnavailable as exc:
            logger.error("media storage: could not store %s: %s", path, exc)
            raise SynapseError(503, UNAVAILABLE, Codes.UNKNOWN) from None
        except Exception:
            logger.exception("media storage: could not store %s", path)
            raise SynapseError(503, UNAVAILABLE, Codes.UNKNOWN) from None
        if self._cache.note_stored(stored.blob.size):
            self._api.run_as_background_process("hearth_media_storage_evict", self._evict)

    async def fetch(self, path: str, file_info: Any) -> Any:
        """A Responder streaming the file at ``path`` from object storage, or None."""
        if describe_file(file_info).url_cache:
            return None
        await self._wait_ready()
        try:
            reader = await self.objects.open(path)
        except StorageUnavailable as exc:
            logger.error("media storage: could not fetch %s: %s", path, exc)
            raise SynapseError(503, UNAVAILABLE, Codes.UNKNOWN) from None
        except Exception:
            logger.exception("media storage: could not fetch %s", path)
            raise SynapseError(503, UNAVAILABLE, Codes.UNKNOWN) from None
        if reader is None:
            return None
        return file_responder(self._hs, reader)

    # --- background ---------------------------------------------------------------------

    async def reconcile_once(self) -> ReconcileReport:
        """One reconciler pass now (tests, admin): see :mod:`.reconciler`."""
        await self._wait_ready()
        report = await self._reconciler.reconcile_once()
        await self.objects.refresh_totals()
        return report

    async def _prepare(self) -> None:
        if self._ready:
            return
        try:
            if self._background:
                before = await self._tables.migrate()
                if before != LATEST:
                    logger.info("media storage: schema migrated from %d to %d", before, LATEST)
            elif await self._tables.schema_version() < LATEST:
                return  # the media-jobs process has not migrated yet
        except Exception:
            logger.warning("media storage: the schema is not ready yet", exc_info=True)
            return
        self._ready = True
        await self.objects.refresh_totals()

    async def _wait_ready(self) -> None:
        waited = 0.0
        while not self._ready:
            if waited >= READY_TIMEOUT_S:
                raise SynapseError(503, "The media store is starting; try again in a moment",
                                   Codes.UNKNOWN)
            await self._api.sleep(0.05)
            waited += 0.05

    async def _reconcile(self) -> None:
        if not self._ready:
            return
        try:
            await self.reconcile_once()
        except Exception:
            logger.warning("media storage: the reconciler pass stopped", exc_info=True)

    async def _evict(self) -> None:
        if not self._ready:
            return
        try:
            await self._cache.evict()
        except Exception:
            logger.warning("media storage: the local cache eviction failed", exc_info=True)
