"""A 100 MB file goes in and out encrypted without ever being held in memory whole."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import pytest

from hearth.media_repo.storage.blobs import MediaRef
from hearth.media_repo.storage.objects import ObjectStore
from tests.unit.media_repo.storage.conftest import MakeObjects, local_path

SIZE = 100 * 1024 * 1024
PATH = local_path("aaaabbbbccccdddd")
KEY = b"\x07" * 32


def _write_big_file(path: Path) -> str:
    """A 100 MB file of varied bytes, written in 1 MiB pieces; its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    piece = hashlib.sha512(b"seed").digest() * (1024 * 1024 // 64)
    with path.open("wb") as target:
        for index in range(SIZE // len(piece)):
            block = index.to_bytes(8, "big") + piece[8:]
            digest.update(block)
            target.write(block)
    return digest.hexdigest()


@pytest.mark.parametrize("backend", ["filesystem", "s3"])
async def test_big_encrypted_file_streams_both_ways(make_objects: MakeObjects, media_store: Path,
                                                    request: pytest.FixtureRequest,
                                                    backend: str) -> None:
    """Storing and reading 100 MB keeps Python's allocations far below the file's size."""
    store: ObjectStore = request.getfixturevalue("fs_store" if backend == "filesystem"
                                                 else "s3_store")
    expected = _write_big_file(media_store / PATH)
    objects = make_objects(store, key=KEY)
    tracemalloc.start()
    try:
        await objects.store_file(PATH, MediaRef("", "aaaabbbbccccdddd"))
        _, stored_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        reader = await objects.open(PATH)
        assert reader is not None
        digest = hashlib.sha256()
        with reader:
            while chunk := reader.read(16 * 1024):  # as Synapse's file sender reads
                digest.update(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == expected
    # S3 holds one 16 MiB part (and its retry copy) in memory at a time; nothing holds 100 MB.
    assert stored_peak < 48 * 1024 * 1024 and read_peak < 8 * 1024 * 1024
