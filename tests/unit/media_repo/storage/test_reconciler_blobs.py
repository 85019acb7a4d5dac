"""Reconciler (b): blobs no mapping points at are deleted with their objects, after the
grace, and never while an upload of the same content claims them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hearth.ai_bot.budget.db import Database
from hearth.media_repo.storage.blobs import MediaRef
from hearth.media_repo.storage.filesystem import FilesystemObjectStore
from hearth.media_repo.storage.objects import ObjectStoreError
from tests.unit.media_repo.storage.conftest import Clock, MakeObjects, local_path, write_media
from tests.unit.media_repo.storage.reconcile_helpers import (
    GRACE_MS,
    add_local_media,
    delete_local_media,
    reconciler,
)

FIRST, SECOND = "aaaabbbbccccdddd", "eeeeffffgggghhhh"
CONTENT = b"shared content" * 100


async def _two_uploads_of_the_same_bytes(make_objects: MakeObjects, db: Database,
                                         media_store: Path) -> str:
    objects = make_objects()
    sha = ""
    for media_id in (FIRST, SECOND):
        await add_local_media(db, media_id)
        write_media(media_store, local_path(media_id), CONTENT)
        sha = (await objects.store_file(local_path(media_id), MediaRef("", media_id))
               ).blob.sha256
    return sha


async def test_reconcile_keeps_a_blob_one_media_id_still_uses(
        make_objects: MakeObjects, synapse_db: Database, media_store: Path,
        fs_store: FilesystemObjectStore, clock: Clock) -> None:
    """One of two identical uploads deleted: the shared object stays, the other reads."""
    sha = await _two_uploads_of_the_same_bytes(make_objects, synapse_db, media_store)
    await delete_local_media(synapse_db, FIRST)
    clock.advance(GRACE_MS + 1)
    objects = make_objects()
    report = await reconciler(synapse_db, objects, media_store, clock).reconcile_once()
    assert (report.mappings_removed, report.blobs_removed) == (1, 0)
    assert fs_store.head(objects.key_of(sha)) == len(CONTENT)
    reader = await objects.open(local_path(SECOND))
    assert reader is not None
    with reader:
        assert reader.read() == CONTENT


async def test_reconcile_deletes_the_blob_when_no_media_id_is_left(
        make_objects: MakeObjects, synapse_db: Database, media_store: Path,
        fs_store: FilesystemObjectStore, clock: Clock) -> None:
    """Both deleted: the mappings, then (past the grace) the blob and its object go."""
    sha = await _two_uploads_of_the_same_bytes(make_objects, synapse_db, media_store)
    await delete_local_media(synapse_db, FIRST)
    await delete_local_media(synapse_db, SECOND)
    clock.advance(GRACE_MS + 1)
    objects = make_objects()
    report = await reconciler(synapse_db, objects, media_store, clock).reconcile_once()
    assert (report.mappings_removed, report.blobs_removed) == (2, 1)
    assert report.bytes_freed == len(CONTENT)
    assert fs_store.head(objects.key_of(sha)) is None
    assert (await objects.tables.totals()).blobs == 0


async def test_reconcile_spares_a_blob_claimed_within_the_grace(
        make_objects: MakeObjects, synapse_db: Database, media_store: Path,
        fs_store: FilesystemObjectStore, clock: Clock) -> None:
    """An unreferenced blob claimed recently (an upload about to map it) is kept."""
    objects = make_objects()
    write_media(media_store, local_path(FIRST), CONTENT)
    stored = await objects.store_file(local_path(FIRST), MediaRef("", FIRST))
    await objects.tables.delete_mappings([local_path(FIRST)])
    clock.advance(GRACE_MS - 1)
    report = await reconciler(synapse_db, objects, media_store, clock).reconcile_once()
    assert report.blobs_removed == 0
    assert fs_store.head(objects.key_of(stored.blob.sha256)) is not None


async def test_upload_during_blob_deletion_waits_and_stores_again(
        make_objects: MakeObjects, synapse_db: Database, media_store: Path,
        fs_store: FilesystemObjectStore, clock: Clock) -> None:
    """While the reconciler deletes a blob's object, a new upload of the same bytes waits,
    then uploads it again: its mapping points at an object that exists."""
    waiting = asyncio.Event()

    async def sleep(seconds: float) -> None:
        waiting.set()
        await asyncio.sleep(0.01)

    objects = make_objects(sleep=sleep)
    write_media(media_store, local_path(FIRST), CONTENT)
    stored = await objects.store_file(local_path(FIRST), MediaRef("", FIRST))
    await objects.tables.delete_mappings([local_path(FIRST)])
    clock.advance(GRACE_MS + 1)
    sha, now = stored.blob.sha256, clock()
    assert await objects.tables.mark_deleting(sha, now - GRACE_MS, now - 1, now)
    write_media(media_store, local_path(SECOND), CONTENT)
    upload = asyncio.create_task(objects.store_file(local_path(SECOND), MediaRef("", SECOND)))
    await asyncio.wait_for(waiting.wait(), 10)
    assert not upload.done()  # waiting for the deletion to finish
    fs_store.delete(objects.key_of(sha))
    assert await objects.tables.forget_blob(sha, now)
    again = await upload
    assert again.outcome == "uploaded"
    assert fs_store.head(objects.key_of(sha)) == len(CONTENT)


class _NoDeletes(FilesystemObjectStore):
    def delete(self, key: str) -> None:
        raise ObjectStoreError("S3 delete failed: connection refused")


async def test_reconcile_failed_object_delete_keeps_the_blob_row(
        make_objects: MakeObjects, synapse_db: Database, media_store: Path,
        tmp_path: Path, clock: Clock) -> None:
    """S3 refuses the delete: the pass stops with the error, the blob row stays (unmarked)
    for the next pass, and uploads can claim it meanwhile."""
    store = _NoDeletes(tmp_path / "objects")
    objects = make_objects(store)
    write_media(media_store, local_path(FIRST), CONTENT)
    stored = await objects.store_file(local_path(FIRST), MediaRef("", FIRST))
    await objects.tables.delete_mappings([local_path(FIRST)])
    clock.advance(GRACE_MS + 1)
    try:
        await reconciler(synapse_db, objects, media_store, clock).reconcile_once()
    except ObjectStoreError:
        pass
    else:
        raise AssertionError("the pass should stop on the delete failure")
    claim = await objects.tables.claim_blob(stored.blob.sha256, clock())
    assert claim.blob is not None and not claim.deleting
