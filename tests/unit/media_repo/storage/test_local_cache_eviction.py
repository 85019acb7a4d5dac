"""The local media store as a bounded cache: least recently used mapped files go first;
files the object store does not hold are never removed."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hearth.media_repo.storage.blobs import MediaRef
from hearth.media_repo.storage.local_cache import LocalCache
from tests.unit.media_repo.storage.conftest import (
    SERVER,
    MakeObjects,
    in_thread,
    local_path,
    write_media,
)

IDS = ["aaaa0000000000" + str(n) for n in range(5)]


def _cache(objects_tables: object, media_store: Path, max_bytes: int) -> LocalCache:
    return LocalCache(media_store, max_bytes, objects_tables.mapped_paths,  # type: ignore[attr-defined]
                      in_thread, SERVER)


def _used(path: Path, seconds_ago: float) -> None:
    then = time.time() - seconds_ago
    os.utime(path, (then, then))


async def _stored_files(make_objects: MakeObjects, media_store: Path) -> list[Path]:
    """Five 1000-byte files in object storage, the first used longest ago."""
    objects = make_objects()
    files = []
    for age, media_id in zip(range(50, 0, -10), IDS, strict=True):
        path = write_media(media_store, local_path(media_id), os.urandom(1000))
        await objects.store_file(local_path(media_id), MediaRef("", media_id))
        _used(path, age)
        files.append(path)
    return files


async def test_eviction_brings_the_store_under_the_bound(make_objects: MakeObjects,
                                                         media_store: Path) -> None:
    """Over the bound, the least recently used files go until the rest fit."""
    files = await _stored_files(make_objects, media_store)
    eviction = await _cache(make_objects().tables, media_store, 2500).evict()
    assert (eviction.files, eviction.bytes, eviction.total_after) == (3, 3000, 2000)
    assert [path.exists() for path in files] == [False, False, False, True, True]


async def test_eviction_never_removes_files_without_a_mapping(make_objects: MakeObjects,
                                                              media_store: Path) -> None:
    """An upload in progress, a URL preview, anything not in object storage stays, even
    when that leaves the store over the bound."""
    files = await _stored_files(make_objects, media_store)
    loose = write_media(media_store, "url_cache/ab/cdef", os.urandom(4000))
    _used(loose, 1000)  # the oldest of all
    eviction = await _cache(make_objects().tables, media_store, 1000).evict()
    assert loose.exists() and not any(path.exists() for path in files)
    assert eviction.total_after == 4000


async def test_eviction_under_the_bound_removes_nothing(make_objects: MakeObjects,
                                                        media_store: Path) -> None:
    """A store within its bound is left as it is."""
    files = await _stored_files(make_objects, media_store)
    eviction = await _cache(make_objects().tables, media_store, 10_000).evict()
    assert eviction.files == 0 and all(path.exists() for path in files)


async def test_evicted_file_still_reads_from_the_object_store(make_objects: MakeObjects,
                                                              media_store: Path) -> None:
    """After eviction the provider serves the bytes (Synapse refetches through it)."""
    objects = make_objects()
    content = os.urandom(3000)
    write_media(media_store, local_path(IDS[0]), content)
    await objects.store_file(local_path(IDS[0]), MediaRef("", IDS[0]))
    await _cache(objects.tables, media_store, 0).evict()
    assert not (media_store / local_path(IDS[0])).exists()
    reader = await objects.open(local_path(IDS[0]))
    assert reader is not None
    with reader:
        assert reader.read() == content


async def test_eviction_is_due_once_the_estimate_passes_the_bound(make_objects: MakeObjects,
                                                                  media_store: Path) -> None:
    """note_stored asks for a pass before the first scan and whenever the estimate is over."""
    cache = _cache(make_objects().tables, media_store, 1500)
    assert cache.note_stored(10)  # nothing known yet
    await cache.evict()
    assert not cache.note_stored(1000)
    assert cache.note_stored(1000)
