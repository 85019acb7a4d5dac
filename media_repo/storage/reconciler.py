"""Removes from the object store what Synapse no longer knows about.

Synapse never tells a storage provider that media was deleted (admin API, purges, retention):
it drops its rows and local files. Each pass, on the one process that runs media background
jobs, the reconciler

a. forgets the mappings whose media row Synapse dropped (quarantined media keeps its rows, so
   its mappings stay), and removes the local file at that path if one is left;
b. deletes the blobs no mapping points at any more, with their objects;
c. deletes objects under ``<prefix>blobs/`` that have no blob row (left by an upload that
   failed between storing the object and recording it), and on S3 aborts the multipart
   uploads there that never completed (their parts are stored, and billed, but no object).

Everything must be older than ``grace_ms`` first, so an upload in flight (its object stored,
Synapse's row not yet written) is never taken for an orphan. A blob is marked as being deleted
before its object goes, so a concurrent upload of the same content waits rather than
mapping to an object about to disappear.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearth.media_repo.storage import metrics
from hearth.media_repo.storage.blobs import OBJECTS, BlobTables
from hearth.media_repo.storage.local_cache import remove
from hearth.media_repo.storage.objects import (
    BLOBS,
    ListedObject,
    ObjectStore,
    ObjectStoreError,
    blob_key,
    sha256_of_key,
)
from hearth.owned_tables import Runner
from hearth.synapse_compat.media_storage_tables import media_gone_txn

logger = logging.getLogger(__name__)

InThread = Callable[..., Awaitable[Any]]
PAGE = 500
# A deletion mark older than this was left by a pass that died; the next pass redoes it.
STALE_MARK_MS = 15 * 60 * 1000


@dataclass(frozen=True)
class ReconcileReport:
    """What one pass removed."""

    mappings_removed: int = 0
    blobs_removed: int = 0
    objects_removed: int = 0
    bytes_freed: int = 0
    uploads_aborted: int = 0


class Reconciler:
    """One object store and its tables, against Synapse's media tables."""

    def __init__(self, *, run: Runner, tables: BlobTables, store: ObjectStore, prefix: str,
                 media_store_path: str, grace_ms: int, in_thread: InThread,
                 clock: Callable[[], int], server_name: str) -> None:
        self._run = run
        self._tables = tables
        self._store = store
        self._prefix = prefix
        self._root = Path(media_store_path)
        self._grace_ms = grace_ms
        self._in_thread = in_thread
        self._clock = clock
        self._server_name = server_name

    async def reconcile_once(self) -> ReconcileReport:
        """One full pass: (a) mappings, (b) blobs, (c) objects. Stops at the first object
        store failure (the rest waits for the next pass) and re-raises it."""
        now = self._clock()
        cutoff = now - self._grace_ms
        mappings = await self._forget_deleted_media(cutoff)
        blobs, freed = 0, 0
        try:
            blobs, freed = await self._delete_unreferenced_blobs(cutoff, now)
            objects, orphan_bytes = await self._delete_orphan_objects(cutoff)
            aborted = await self._abort_stale_uploads(cutoff)
        except ObjectStoreError:
            metrics.RECONCILE_FAILURES.labels(self._server_name).inc()
            self._count(ReconcileReport(mappings, blobs, 0, freed))
            raise
        report = ReconcileReport(mappings, blobs, objects, freed + orphan_bytes, aborted)
        self._count(report)
        metrics.RECONCILE_LAST_PASS.labels(self._server_name).set(now / 1000)
        if report != ReconcileReport():
            logger.info("media storage: reconciled: %s", report)
        return report

    def _count(self, report: ReconcileReport) -> None:
        for kind, value in (("mapping", report.mappings_removed), ("blob", report.blobs_removed),
                            ("object", report.objects_removed),
                            ("multipart_upload", report.uploads_aborted)):
            metrics.RECONCILE_REMOVALS.labels(self._server_name, kind).inc(value)
        metrics.RECONCILE_FREED.labels(self._server_name).inc(report.bytes_freed)

    async def _forget_deleted_media(self, cutoff: int) -> int:
        removed = 0
        after: str | None = ""
        while after is not None:
            gone, after = await self._run("hearth_media_gone", media_gone_txn, OBJECTS, cutoff,
                                          after, PAGE)
            if gone:
                removed += await self._tables.delete_mappings(gone)
                await self._in_thread(remove, self._root, gone)
        return removed

    async def _delete_unreferenced_blobs(self, cutoff: int, now: int) -> tuple[int, int]:
        removed = freed = 0
        stale = now - STALE_MARK_MS
        while True:
            candidates = await self._tables.unreferenced_blobs(cutoff, stale, PAGE)
            for blob in candidates:
                mark = self._clock()
                if not await self._tables.mark_deleting(blob.sha256, cutoff, stale, mark):
                    continue  # claimed or mapped again meanwhile
                try:
                    await self._in_thread(self._store.delete,
                                          blob_key(self._prefix, blob.sha256))
                except ObjectStoreError:
                    await self._tables.unmark_deleting(blob.sha256, mark)
                    raise
                if await self._tables.forget_blob(blob.sha256, mark):
                    removed += 1
                    freed += blob.stored_size
            if len(candidates) < PAGE:
                return removed, freed

    async def _abort_stale_uploads(self, cutoff: int) -> int:
        abort = getattr(self._store, "abort_stale_uploads", None)
        if abort is None:
            return 0  # a directory has no multipart uploads
        aborted: int = await self._in_thread(abort, self._prefix + BLOBS, cutoff)
        return aborted

    async def _delete_orphan_objects(self, cutoff: int) -> tuple[int, int]:
        removed = freed = 0
        listing: Iterator[ListedObject] = self._store.list(self._prefix + BLOBS)
        while True:
            page: list[ListedObject] = await self._in_thread(
                lambda: list(itertools.islice(listing, PAGE)))
            old = [item for item in page if item.last_modified_ms < cutoff]
            digests = {item.key: sha256_of_key(self._prefix, item.key) for item in old}
            known = await self._tables.known_blobs(
                [digest for digest in digests.values() if digest is not None])
            orphans = [item for item in old if digests[item.key] not in known]
            for item in orphans:
                await self._in_thread(self._store.delete, item.key)
                removed += 1
                freed += item.size
            if len(page) < PAGE:
                return removed, freed
