"""Reading back: mapping to blob to (decrypted) bytes; None when not stored, an error when
the store or the key is unusable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import pytest

from hearth.media_repo.storage.blobs import MediaRef
from hearth.media_repo.storage.encryption import TamperedObject
from hearth.media_repo.storage.filesystem import FilesystemObjectStore
from hearth.media_repo.storage.media_objects import StorageUnavailable
from hearth.media_repo.storage.objects import ObjectStoreError
from hearth.media_repo.storage.s3 import S3ObjectStore
from tests.unit.media_repo.storage.conftest import MakeObjects, local_path, write_media

PATH = local_path("aaaabbbbccccdddd")
REF = MediaRef("", "aaaabbbbccccdddd")
KEY = os.urandom(32)


async def test_open_of_an_unmapped_path_is_none(make_objects: MakeObjects) -> None:
    """A path the provider never stored: None (Synapse answers 404 or asks the origin)."""
    assert await make_objects().open(PATH) is None


async def test_open_of_a_vanished_object_is_none(make_objects: MakeObjects, media_store: Path,
                                                 fs_store: FilesystemObjectStore) -> None:
    """The mapping is there but the object was removed behind our back: None, logged."""
    objects = make_objects()
    write_media(media_store, PATH, b"content")
    stored = await objects.store_file(PATH, REF)
    fs_store.delete(objects.key_of(stored.blob.sha256))
    assert await objects.open(PATH) is None


@pytest.mark.parametrize("backend", ["filesystem", "s3"])
async def test_encrypted_store_holds_ciphertext_and_reads_plaintext(
        make_objects: MakeObjects, media_store: Path, fs_store: FilesystemObjectStore,
        request: pytest.FixtureRequest, backend: str) -> None:
    """With a key the object store never sees the bytes; reading gives them back."""
    store = fs_store if backend == "filesystem" else request.getfixturevalue("s3_store")
    objects = make_objects(store, key=KEY)
    content = b"private photo " * 5000
    write_media(media_store, PATH, content)
    stored = await objects.store_file(PATH, REF)
    raw = store.open(objects.key_of(stored.blob.sha256))
    assert raw is not None
    with raw:
        assert content[:100] not in raw.read()
    reader = await objects.open(PATH)
    assert reader is not None
    with reader:
        assert reader.read() == content


async def test_encrypted_object_without_the_key_is_an_error(make_objects: MakeObjects,
                                                            media_store: Path) -> None:
    """Stored encrypted, read by a process with no key: StorageUnavailable, not ciphertext."""
    write_media(media_store, PATH, b"content")
    await make_objects(key=KEY).store_file(PATH, REF)
    with pytest.raises(StorageUnavailable, match="no key"):
        await make_objects().open(PATH)


async def test_tampered_encrypted_object_fails_while_reading(make_objects: MakeObjects,
                                                             media_store: Path,
                                                             fs_store: FilesystemObjectStore
                                                             ) -> None:
    """An object altered in the store raises TamperedObject as it streams."""
    objects = make_objects(key=KEY)
    write_media(media_store, PATH, b"content" * 1000)
    stored = await objects.store_file(PATH, REF)
    target = fs_store._path(objects.key_of(stored.blob.sha256))
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    reader = await objects.open(PATH)
    assert reader is not None
    with reader, pytest.raises(TamperedObject):
        reader.read(16 * 1024)


async def test_presign_only_for_plaintext_objects(make_objects: MakeObjects, media_store: Path,
                                                  s3_store: S3ObjectStore) -> None:
    """S3 plaintext: a URL; encrypted or unmapped: None (the download is streamed)."""
    plain, sealed = make_objects(s3_store), make_objects(s3_store, key=KEY)
    write_media(media_store, PATH, b"plain")
    await plain.store_file(PATH, REF)
    other = local_path("eeeeffffgggghhhh")
    write_media(media_store, other, b"sealed")
    await sealed.store_file(other, MediaRef("", "eeeeffffgggghhhh"))
    asked = {"content_type": "image/png", "content_disposition": "inline",
             "cache_control": "private"}
    assert (await plain.presign(PATH, 60, **asked) or "").startswith("http://127.0.0.1:")
    assert await sealed.presign(other, 60, **asked) is None
    assert await plain.presign(local_path("zzzzzzzzzzzzzzzz"), 60, **asked) is None


class _Unreachable(FilesystemObjectStore):
    """Writes work, reads fail as an S3 outage does."""

    def open(self, key: str) -> BinaryIO | None:
        raise ObjectStoreError("S3 download failed: connection refused")


async def test_object_store_error_on_open_is_unavailable(make_objects: MakeObjects,
                                                         media_store: Path,
                                                         tmp_path: Path) -> None:
    """The store answers with an error (not "missing"): StorageUnavailable."""
    objects = make_objects(_Unreachable(tmp_path / "objects"))
    write_media(media_store, PATH, b"content")
    await objects.store_file(PATH, REF)
    with pytest.raises(StorageUnavailable, match="connection refused"):
        await objects.open(PATH)
