"""The directory backend: objects as files, written whole or not at all."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hearth.media_repo.storage.filesystem import FilesystemObjectStore
from hearth.media_repo.storage.objects import ObjectStoreError


class _Failing(io.RawIOBase):
    """A stream that gives some bytes and then fails, like a disk error mid-copy."""

    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        self.calls += 1
        if self.calls > 1:
            raise OSError("disk gone")
        buffer[:4] = b"part"
        return 4


def test_filesystem_store_round_trip(fs_store: FilesystemObjectStore, tmp_path: Path) -> None:
    """put_file, head, open, list and delete see the same object."""
    source = tmp_path / "f"
    source.write_bytes(b"content")
    fs_store.put_file("blobs/ab/key", str(source), "application/octet-stream")
    assert fs_store.head("blobs/ab/key") == 7
    reader = fs_store.open("blobs/ab/key")
    assert reader is not None
    with reader:
        assert reader.read() == b"content"
    assert [(o.key, o.size) for o in fs_store.list("blobs/")] == [("blobs/ab/key", 7)]
    fs_store.delete("blobs/ab/key")
    fs_store.delete("blobs/ab/key")  # already gone: no error
    assert fs_store.head("blobs/ab/key") is None and fs_store.open("blobs/ab/key") is None


def test_filesystem_store_failed_write_leaves_nothing(fs_store: FilesystemObjectStore) -> None:
    """A stream failing mid-write raises ObjectStoreError; no object, no temporary file."""
    with pytest.raises(ObjectStoreError, match="disk gone"):
        fs_store.put_stream("blobs/ab/key", io.BufferedReader(_Failing()),  # type: ignore[arg-type]
                            "application/octet-stream")
    assert fs_store.head("blobs/ab/key") is None
    assert list(fs_store.list("")) == []


def test_filesystem_store_refuses_keys_leaving_the_root(fs_store: FilesystemObjectStore) -> None:
    """A key with '..' or empty segments is refused, never resolved outside the root."""
    for key in ("../x", "a//b", "/abs", ""):
        with pytest.raises(ValueError, match="not an object key"):
            fs_store.head(key)


def test_filesystem_store_has_no_presigned_urls(fs_store: FilesystemObjectStore) -> None:
    """A directory has no URLs: downloads are streamed."""
    assert fs_store.presign_get("blobs/ab/key", 60, content_type="image/png",
                                content_disposition="inline", cache_control="private") is None
