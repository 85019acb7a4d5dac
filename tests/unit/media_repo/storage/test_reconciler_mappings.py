"""Reconciler (a): mappings of media Synapse deleted are forgotten; others stay."""

from __future__ import annotations

from pathlib import Path

from hearth.ai_bot.budget.db import Database
from hearth.media_repo.storage.blobs import MediaRef, Thumbnail
from tests.unit.media_repo.storage.conftest import Clock, MakeObjects, local_path, write_media
from tests.unit.media_repo.storage.reconcile_helpers import (
    GRACE_MS,
    add_local_media,
    delete_local_media,
    reconciler,
    synapse_row,
)

MEDIA = "aaaabbbbccccdddd"
THUMB_PATH = "local_thumbnails/aa/aa/bbbbccccdddd/32-32-image-png-crop"


async def _stored(make_objects: MakeObjects, media_store: Path, path: str, ref: MediaRef,
                  content: bytes = b"content") -> None:
    write_media(media_store, path, content)
    await make_objects().store_file(path, ref)


async def test_reconcile_forgets_mappings_of_deleted_local_media(
        make_objects: MakeObjects, synapse_db: Database, media_store: Path,
        clock: Clock) -> None:
    """Synapse deleted the media (and its thumbnail rows): both mappings go, and the local
    file Synapse left behind with them."""
    await add_local_media(synapse_db, MEDIA)
    await _stored(make_objects, media_store, local_path(MEDIA), MediaRef("", MEDIA))
    await _stored(make_objects, media_store, THUMB_PATH,
                  MediaRef("", MEDIA, Thumbnail(32, 32, "image/png", "crop")), b"thumb")
    await delete_local_media(synapse_db, MEDIA)
    clock.advance(GRACE_MS + 1)
    objects = make_objects()
    report = await reconciler(synapse_db, objects, media_store, clock).reconcile_once()
    assert report.mappings_removed == 2
    assert await objects.tables.blob_of_path(local_path(MEDIA)) is None
    assert not (media_store / local_path(MEDIA)).exists()


async def test_reconcile_keeps_mappings_of_existing_and_quarantined_media(
        make_objects: MakeObjects, synapse_db: Database, media_store: Path,
        clock: Clock) -> None:
    """Media Synapse still has, quarantined or not, and its thumbnails keep their mappings."""
    await add_local_media(synapse_db, MEDIA)
    await add_local_media(synapse_db, "eeeeffffgggghhhh", quarantined=True)
    await synapse_row(synapse_db, "INSERT INTO local_media_repository_thumbnails (media_id, "
                      "thumbnail_width, thumbnail_height, thumbnail_type, thumbnail_method, "
                      "thumbnail_length) VALUES (?, 32, 32, 'image/png', 'crop', 5)", MEDIA)
    await _stored(make_objects, media_store, local_path(MEDIA), MediaRef("", MEDIA))
    await _stored(make_objects, media_store, THUMB_PATH,
                  MediaRef("", MEDIA, Thumbnail(32, 32, "image/png", "crop")), b"thumb")
    await _stored(make_objects, media_store, local_path("eeeeffffgggghhhh"),
                  MediaRef("", "eeeeffffgggghhhh"), b"quarantined")
    clock.advance(GRACE_MS + 1)
    report = await reconciler(synapse_db, make_objects(), media_store, clock).reconcile_once()
    assert report.mappings_removed == 0


async def test_reconcile_spares_mappings_younger_than_the_grace(
        make_objects: MakeObjects, synapse_db: Database, media_store: Path,
        clock: Clock) -> None:
    """An upload in flight (stored, Synapse's row not yet written) is left alone."""
    await _stored(make_objects, media_store, local_path(MEDIA), MediaRef("", MEDIA))
    clock.advance(GRACE_MS - 1)
    report = await reconciler(synapse_db, make_objects(), media_store, clock).reconcile_once()
    assert report.mappings_removed == 0


async def test_reconcile_forgets_remote_media_purged_from_the_cache(
        make_objects: MakeObjects, synapse_db: Database, media_store: Path,
        clock: Clock) -> None:
    """Remote originals and thumbnails (keyed by origin and filesystem ID) follow Synapse's
    remote media cache: purged ones go, cached ones stay."""
    await synapse_row(synapse_db, "INSERT INTO remote_media_cache (media_origin, media_id, "
                      "media_type, created_ts, media_length, filesystem_id) "
                      "VALUES ('other.org', 'kept', 'image/png', 0, 5, 'fskept')")
    await synapse_row(synapse_db, "INSERT INTO remote_media_cache_thumbnails (media_origin, "
                      "media_id, thumbnail_width, thumbnail_height, thumbnail_method, "
                      "thumbnail_type, thumbnail_length, filesystem_id) VALUES ('other.org', "
                      "'kept', 32, 32, 'crop', 'image/png', 5, 'fskept')")
    for file_id in ("fskept", "fsgone"):
        await _stored(make_objects, media_store, f"remote_content/other.org/fs/{file_id}",
                      MediaRef("other.org", file_id), file_id.encode())
        await _stored(make_objects, media_store,
                      f"remote_thumbnail/other.org/fs/{file_id}/32-32-image-png-crop",
                      MediaRef("other.org", file_id, Thumbnail(32, 32, "image/png", "crop")),
                      b"t" + file_id.encode())
    clock.advance(GRACE_MS + 1)
    objects = make_objects()
    report = await reconciler(synapse_db, objects, media_store, clock).reconcile_once()
    assert report.mappings_removed == 2
    assert await objects.tables.blob_of_path("remote_content/other.org/fs/fskept") is not None
    assert await objects.tables.blob_of_path("remote_content/other.org/fs/fsgone") is None
