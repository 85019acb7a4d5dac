"""Reconciler (c): objects under blobs/ with no blob row (a failed upload's leftovers) are
deleted after the grace; recorded blobs and anything outside blobs/ are not touched."""

from __future__ import annotations

import hashlib
import io
import os
import time
from pathlib import Path

from hearth.ai_bot.budget.db import Database
from hearth.media_repo.storage.blobs import MediaRef
from hearth.media_repo.storage.filesystem import FilesystemObjectStore
from hearth.media_repo.storage.objects import blob_key
from hearth.media_repo.storage.s3 import S3ObjectStore
from tests.harness.s3 import SessionS3
from tests.unit.media_repo.storage.conftest import Clock, MakeObjects, local_path, write_media
from tests.unit.media_repo.storage.reconcile_helpers import GRACE_MS, add_local_media, reconciler

ORPHAN = hashlib.sha256(b"orphan").hexdigest()


def _age(store: FilesystemObjectStore, key: str, seconds: float) -> None:
    path = store._path(key)
    then = time.time() - seconds
    os.utime(path, (then, then))


def _put(store: FilesystemObjectStore, key: str) -> None:
    store.put_stream(key, io.BytesIO(b"orphan"), "application/octet-stream")


async def test_reconcile_deletes_old_objects_without_a_blob_row(
        make_objects: MakeObjects, synapse_db: Database, media_store: Path,
        fs_store: FilesystemObjectStore) -> None:
    """An old object under blobs/ that no row records (a blob key or a stray temporary file)
    is removed; a recorded blob stays."""
    objects = make_objects()
    await add_local_media(synapse_db, "aaaabbbbccccdddd")
    write_media(media_store, local_path("aaaabbbbccccdddd"), b"kept")
    kept = await objects.store_file(local_path("aaaabbbbccccdddd"),
                                    MediaRef("", "aaaabbbbccccdddd"))
    stray = f"blobs/{ORPHAN[:2]}/.{ORPHAN}.tmp-0a1b2c"
    for key in (blob_key("", ORPHAN), stray):
        _put(fs_store, key)
        _age(fs_store, key, GRACE_MS / 1000 + 5)
    _age(fs_store, objects.key_of(kept.blob.sha256), GRACE_MS / 1000 + 5)
    report = await reconciler(synapse_db, objects, media_store, Clock(int(time.time() * 1000))
                              ).reconcile_once()
    assert report.objects_removed == 2 and report.bytes_freed == 12
    assert [o.key for o in fs_store.list("")] == [objects.key_of(kept.blob.sha256)]


async def test_reconcile_spares_young_objects_and_other_prefixes(
        make_objects: MakeObjects, synapse_db: Database, media_store: Path,
        fs_store: FilesystemObjectStore) -> None:
    """An object younger than the grace (an upload being recorded) and keys outside
    <prefix>blobs/ (someone else's data in the bucket) stay."""
    objects = make_objects(prefix="hs/")
    _put(fs_store, blob_key("hs/", ORPHAN))
    _put(fs_store, "other/thing")
    _age(fs_store, "other/thing", GRACE_MS / 1000 + 5)
    report = await reconciler(synapse_db, objects, media_store, Clock(int(time.time() * 1000))
                              ).reconcile_once()
    assert report.objects_removed == 0
    assert sorted(o.key for o in fs_store.list("")) == sorted([blob_key("hs/", ORPHAN),
                                                               "other/thing"])


async def test_reconcile_aborts_multipart_uploads_that_never_completed(
        make_objects: MakeObjects, synapse_db: Database, media_store: Path,
        s3_store: S3ObjectStore, s3_server: SessionS3) -> None:
    """An upload that died half-way left parts in S3 but no object: once older than the
    grace its multipart upload is aborted; a newer one is left to finish."""
    client, bucket = s3_server.client(), s3_store._bucket
    started = client.create_multipart_upload(Bucket=bucket, Key=blob_key("", ORPHAN))
    client.upload_part(Bucket=bucket, Key=blob_key("", ORPHAN), PartNumber=1,
                       UploadId=started["UploadId"], Body=b"part")
    # moto reports every upload as initiated on 2010-11-10: a cutoff before that is "young".
    assert s3_store.abort_stale_uploads("blobs/", 1_000_000_000_000) == 0
    objects = make_objects(s3_store)
    now = Clock(int(time.time() * 1000))
    report = await reconciler(synapse_db, objects, media_store, now).reconcile_once()
    assert report.uploads_aborted == 1
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
