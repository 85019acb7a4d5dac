"""De-duplication: the same bytes stored twice are one object and two mappings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hearth.media_repo.storage.blobs import MediaRef
from hearth.media_repo.storage.filesystem import FilesystemObjectStore
from hearth.media_repo.storage.objects import ObjectStore
from hearth.media_repo.storage.s3 import S3ObjectStore
from tests.unit.media_repo.storage.conftest import MakeObjects, local_path, write_media


@pytest.fixture(params=["filesystem", "s3"])
def store(request: pytest.FixtureRequest, fs_store: FilesystemObjectStore) -> ObjectStore:
    if request.param == "filesystem":
        return fs_store
    s3: S3ObjectStore = request.getfixturevalue("s3_store")
    return s3


async def test_same_bytes_twice_are_one_object(make_objects: MakeObjects, media_store: Path,
                                               store: ObjectStore) -> None:
    """Two media IDs, identical content: uploaded once, deduplicated once, one object."""
    objects = make_objects(store, prefix="hs/")
    content = os.urandom(100_000)
    first, second = local_path("aaaabbbbccccdddd"), local_path("eeeeffffgggghhhh")
    write_media(media_store, first, content)
    write_media(media_store, second, content)
    stored_first = await objects.store_file(first, MediaRef("", "aaaabbbbccccdddd"))
    stored_second = await objects.store_file(second, MediaRef("", "eeeeffffgggghhhh"))
    assert (stored_first.outcome, stored_second.outcome) == ("uploaded", "deduplicated")
    assert [o.key for o in store.list("hs/blobs/")] == [objects.key_of(
        stored_first.blob.sha256)]
    totals = await objects.tables.totals()
    assert (totals.mappings, totals.blobs, totals.logical_bytes, totals.physical_bytes) == (
        2, 1, 200_000, 100_000)


async def test_different_bytes_are_two_objects(make_objects: MakeObjects, media_store: Path,
                                               store: ObjectStore) -> None:
    """Different content is never merged."""
    objects = make_objects(store)
    for index, media_id in enumerate(("aaaabbbbccccdddd", "eeeeffffgggghhhh")):
        write_media(media_store, local_path(media_id), bytes([index]) * 1000)
        await objects.store_file(local_path(media_id), MediaRef("", media_id))
    assert len(list(store.list("blobs/"))) == 2


async def test_each_media_id_reads_back_its_bytes(make_objects: MakeObjects,
                                                  media_store: Path) -> None:
    """Both mappings of a shared blob open to the full content."""
    objects = make_objects()
    content = os.urandom(5000)
    for media_id in ("aaaabbbbccccdddd", "eeeeffffgggghhhh"):
        write_media(media_store, local_path(media_id), content)
        await objects.store_file(local_path(media_id), MediaRef("", media_id))
    for media_id in ("aaaabbbbccccdddd", "eeeeffffgggghhhh"):
        reader = await objects.open(local_path(media_id))
        assert reader is not None
        with reader:
            assert reader.read() == content


async def test_dedup_reuploads_an_object_that_went_missing(make_objects: MakeObjects,
                                                           media_store: Path,
                                                           fs_store: FilesystemObjectStore
                                                           ) -> None:
    """A blob row whose object is gone (bucket emptied by hand) is uploaded again, not
    trusted: the new mapping never points at nothing."""
    objects = make_objects()
    content = b"precious" * 100
    write_media(media_store, local_path("aaaabbbbccccdddd"), content)
    stored = await objects.store_file(local_path("aaaabbbbccccdddd"),
                                      MediaRef("", "aaaabbbbccccdddd"))
    fs_store.delete(objects.key_of(stored.blob.sha256))
    write_media(media_store, local_path("eeeeffffgggghhhh"), content)
    again = await objects.store_file(local_path("eeeeffffgggghhhh"),
                                     MediaRef("", "eeeeffffgggghhhh"))
    assert again.outcome == "uploaded"
    assert fs_store.head(objects.key_of(stored.blob.sha256)) == len(content)
