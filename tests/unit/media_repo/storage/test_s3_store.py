"""The S3 backend against a real S3 API (moto's server mode behind the checking front)."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from devtools.ports import free_port
from hearth.media_repo.storage.objects import ObjectStoreError
from hearth.media_repo.storage.s3 import PART_SIZE, S3Location, S3ObjectStore
from tests.harness.s3 import SessionS3


def test_s3_store_round_trip(s3_store: S3ObjectStore, tmp_path: Path) -> None:
    """put_file, head, open, list and delete see the same object."""
    source = tmp_path / "f"
    source.write_bytes(b"content")
    s3_store.put_file("p/blobs/ab/key", str(source), "application/octet-stream")
    assert s3_store.head("p/blobs/ab/key") == 7
    reader = s3_store.open("p/blobs/ab/key")
    assert reader is not None
    with reader:
        assert reader.read() == b"content"
    assert [(o.key, o.size) for o in s3_store.list("p/blobs/")] == [("p/blobs/ab/key", 7)]
    s3_store.delete("p/blobs/ab/key")
    s3_store.delete("p/blobs/ab/key")  # already gone: no error
    assert s3_store.head("p/blobs/ab/key") is None and s3_store.open("p/blobs/ab/key") is None


def test_s3_store_uploads_big_files_in_parts(s3_store: S3ObjectStore, s3_server: SessionS3,
                                             tmp_path: Path) -> None:
    """A file over the part size goes up as a multipart upload and comes back whole."""
    content = os.urandom(PART_SIZE + 1024 * 1024)
    source = tmp_path / "big"
    source.write_bytes(content)
    s3_store.put_file("big", str(source), "application/octet-stream")
    bucket = s3_store._bucket
    etag = s3_server.client().head_object(Bucket=bucket, Key="big")["ETag"]
    assert etag.strip('"').endswith("-2")  # S3's mark of an object made of two parts
    reader = s3_store.open("big")
    assert reader is not None
    with reader:
        assert hashlib.sha256(reader.read()).digest() == hashlib.sha256(content).digest()


def test_s3_store_put_stream_of_unknown_length(s3_store: S3ObjectStore) -> None:
    """A stream (the encrypting reader) is uploaded without knowing its length first."""
    s3_store.put_stream("stream", io.BytesIO(b"x" * 100_000), "application/octet-stream")
    assert s3_store.head("stream") == 100_000


def test_s3_store_unreachable_endpoint_is_an_object_store_error(tmp_path: Path) -> None:
    """Nothing listening: every operation fails with ObjectStoreError (bounded retries)."""
    store = S3ObjectStore(S3Location(bucket="nowhere", endpoint_url=f"http://127.0.0.1:"
                                     f"{free_port()}", access_key_id="k",
                                     secret_access_key="s", max_attempts=2))
    source = tmp_path / "f"
    source.write_bytes(b"x")
    with pytest.raises(ObjectStoreError, match="upload"):
        store.put_file("k", str(source), "application/octet-stream")
    with pytest.raises(ObjectStoreError, match="head"):
        store.head("k")
    with pytest.raises(ObjectStoreError, match="download"):
        store.open("k")
    with pytest.raises(ObjectStoreError, match="list"):
        list(store.list(""))


def test_s3_store_missing_bucket_is_an_object_store_error(s3_server: SessionS3,
                                                          tmp_path: Path) -> None:
    """A bucket that does not exist refuses uploads with ObjectStoreError, not a crash."""
    store = S3ObjectStore(S3Location(bucket="no-such-bucket-here",
                                     endpoint_url=s3_server.endpoint_url,
                                     access_key_id=s3_server.access_key_id,
                                     secret_access_key=s3_server.secret_access_key))
    source = tmp_path / "f"
    source.write_bytes(b"x")
    with pytest.raises(ObjectStoreError, match="NoSuchBucket"):
        store.put_file("k", str(source), "application/octet-stream")
