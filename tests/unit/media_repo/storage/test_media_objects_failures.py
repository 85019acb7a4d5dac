"""A store that fails leaves no mapping: no media path ever points at nothing."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pytest

from hearth.media_repo.storage.blobs import MediaRef
from hearth.media_repo.storage.filesystem import FilesystemObjectStore
from hearth.media_repo.storage.media_objects import StorageUnavailable
from hearth.media_repo.storage.objects import ObjectStoreError
from hearth.media_repo.storage.s3 import S3ObjectStore
from tests.harness.s3 import SessionS3
from tests.unit.media_repo.storage.conftest import MakeObjects, local_path, write_media

PATH = local_path("aaaabbbbccccdddd")
REF = MediaRef("", "aaaabbbbccccdddd")


class RefusingStore(FilesystemObjectStore):
    """A directory store whose writes fail, as an unreachable S3 does."""

    def put_file(self, key: str, path: str, content_type: str) -> None:
        raise ObjectStoreError("S3 upload failed: connection refused")

    def put_stream(self, key: str, stream: BinaryIO, content_type: str) -> None:
        raise ObjectStoreError("S3 upload failed: connection refused")


async def test_put_failure_records_no_mapping(make_objects: MakeObjects, media_store: Path,
                                              tmp_path: Path) -> None:
    """The upload fails: StorageUnavailable, and neither a mapping nor a blob row exists."""
    objects = make_objects(RefusingStore(tmp_path / "objects"))
    write_media(media_store, PATH, b"content")
    with pytest.raises(StorageUnavailable, match="connection refused"):
        await objects.store_file(PATH, REF)
    assert await objects.tables.blob_of_path(PATH) is None
    assert (await objects.tables.totals()).blobs == 0


async def test_encrypted_put_failure_records_no_mapping(make_objects: MakeObjects,
                                                        media_store: Path,
                                                        tmp_path: Path) -> None:
    """The same with encryption on (the streaming upload path)."""
    objects = make_objects(RefusingStore(tmp_path / "objects"), key=b"k" * 32)
    write_media(media_store, PATH, b"content")
    with pytest.raises(StorageUnavailable):
        await objects.store_file(PATH, REF)
    assert await objects.tables.blob_of_path(PATH) is None


async def test_s3_gone_mid_upload_records_no_mapping(make_objects: MakeObjects,
                                                     media_store: Path,
                                                     s3_store: S3ObjectStore,
                                                     s3_server: SessionS3) -> None:
    """S3 goes away while a 40 MB upload is under way: the store fails, no mapping, and once
    S3 is back the bucket holds no object for it."""
    objects = make_objects(s3_store)
    write_media(media_store, PATH, b"\x01" * (40 * 1024 * 1024))
    s3_server.on_request_bytes(20 * 1024 * 1024, s3_server.stop_front)
    try:
        with pytest.raises(StorageUnavailable):
            await objects.store_file(PATH, REF)
    finally:
        s3_server.start_front()
    assert await objects.tables.blob_of_path(PATH) is None
    assert list(s3_store.list("blobs/")) == []


async def test_missing_local_file_is_a_failure_not_a_mapping(make_objects: MakeObjects) -> None:
    """Synapse's file vanished before the store: an error (the upload fails), no mapping."""
    objects = make_objects()
    with pytest.raises(FileNotFoundError):
        await objects.store_file(PATH, REF)
    assert await objects.tables.blob_of_path(PATH) is None
