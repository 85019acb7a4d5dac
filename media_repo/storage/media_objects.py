"""Storing and reading Synapse's media files as content-addressed, de-duplicated blobs.

``store`` hashes the file Synapse just wrote, uploads it only when no blob with that SHA-256
is stored yet (or the object has gone missing), and then records the mapping: in that order,
so a failure at any step leaves no mapping to nothing (at worst an orphan object, which the
reconciler removes). ``open`` follows the mapping to the blob and streams its (decrypted)
bytes. Blocking work (hashing, boto3) goes through ``in_thread``; nothing here imports
Synapse or Twisted, so the unit tests drive it with asyncio.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, TypeVar

from hearth.media_repo.storage import metrics
from hearth.media_repo.storage.blobs import Blob, BlobBeingDeleted, BlobTables, MediaRef
from hearth.media_repo.storage.encryption import (
    DecryptingReader,
    EncryptingReader,
    encrypted_size,
)
from hearth.media_repo.storage.objects import ObjectStore, ObjectStoreError, blob_key

logger = logging.getLogger(__name__)

T = TypeVar("T")
InThread = Callable[..., Awaitable[Any]]
Sleep = Callable[[float], Awaitable[None]]
HASH_CHUNK = 1 << 20
CLAIM_WAIT_S = 0.2
CLAIM_ATTEMPTS = 50  # ~10 s for a reconciler deleting the same content to finish
OBJECT_TYPE = "application/octet-stream"


class StorageUnavailable(Exception):
    """The file could not be stored or read: the object store (or the key) is unusable."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Stored:
    """What ``store`` did: the blob the path now maps to and whether it was uploaded."""

    blob: Blob
    outcome: Literal["uploaded", "deduplicated"]


def hash_file(path: str) -> tuple[str, int]:
    """(SHA-256 hex digest, size) of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as source:
        while chunk := source.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def now_ms() -> int:
    return int(time.time() * 1000)


class MediaObjects:
    """Synapse's media store paths backed by blobs in an object store."""

    def __init__(self, *, store: ObjectStore, tables: BlobTables, media_store_path: str,
                 prefix: str, key: bytes | None, in_thread: InThread, sleep: Sleep,
                 server_name: str, clock: Callable[[], int] = now_ms) -> None:
        self.store = store
        self.tables = tables
        self.media_store_path = Path(media_store_path)
        self.prefix = prefix
        self._key = key
        self._in_thread = in_thread
        self._sleep = sleep
        self._clock = clock
        self.server_name = server_name

    def key_of(self, sha256: str) -> str:
        return blob_key(self.prefix, sha256)

    async def store_file(self, path: str, ref: MediaRef) -> Stored:
        """Store the media store's file at ``path`` (relative) as what ``ref`` names."""
        started = time.monotonic()
        try:
            stored = await self._store(path, ref)
        except StorageUnavailable as exc:
            metrics.STORE_FAILURES.labels(self.server_name, exc.reason).inc()
            raise
        metrics.STORED.labels(self.server_name, stored.outcome).inc()
        metrics.STORE_SECONDS.labels(self.server_name).observe(time.monotonic() - started)
        return stored

    async def _store(self, path: str, ref: MediaRef) -> Stored:
        local = str(self.media_store_path / path)
        sha256, size = await self._in_thread(hash_file, local)
        key = self.key_of(sha256)
        for _ in range(2):  # a second round only if the reconciler raced us
            existing = await self._claim(sha256)
            blob = existing
            if existing is not None and await self._exists(key):
                outcome: Literal["uploaded", "deduplicated"] = "deduplicated"
            else:
                blob = await self._upload(local, key, sha256, size)
                outcome = "uploaded"
            assert blob is not None
            try:
                await self.tables.record(path, ref, blob, outcome == "uploaded", self._clock())
            except BlobBeingDeleted:
                continue
            return Stored(blob, outcome)
        raise StorageUnavailable("the stored object was being deleted; try again", "busy")

    async def _claim(self, sha256: str) -> Blob | None:
        for _ in range(CLAIM_ATTEMPTS):
            claim = await self.tables.claim_blob(sha256, self._clock())
            if not claim.deleting:
                return claim.blob
            await self._sleep(CLAIM_WAIT_S)
        raise StorageUnavailable("the stored object is being deleted; try again", "busy")

    async def _exists(self, key: str) -> bool:
        try:
            return await self._in_thread(self.store.head, key) is not None
        except ObjectStoreError as exc:
            raise StorageUnavailable(str(exc), "object_store") from exc

    async def _upload(self, local: str, key: str, sha256: str, size: int) -> Blob:
        try:
            if self._key is None:
                await self._in_thread(self.store.put_file, key, local, OBJECT_TYPE)
                return Blob(sha256, size, size, encrypted=False)
            await self._in_thread(self._put_encrypted, key, local, sha256)
        except ObjectStoreError as exc:
            raise StorageUnavailable(str(exc), "object_store") from exc
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {local}: {exc}", "local_file") from exc
        return Blob(sha256, size, encrypted_size(size), encrypted=True)

    def _put_encrypted(self, key: str, local: str, sha256: str) -> None:
        assert self._key is not None
        with open(local, "rb") as source:
            self.store.put_stream(key, EncryptingReader(source, self._key, sha256),  # type: ignore[arg-type]
                                  OBJECT_TYPE)

    async def open(self, path: str) -> BinaryIO | None:
        """A reader of the file's plaintext (close it), or None when it is not stored."""
        started = time.monotonic()
        blob = await self.tables.blob_of_path(path)
        if blob is None:
            metrics.FETCHES.labels(self.server_name, "unmapped").inc()
            return None
        if blob.encrypted and self._key is None:
            metrics.FETCHES.labels(self.server_name, "failed").inc()
            raise StorageUnavailable(f"{path} is stored encrypted and no key is configured",
                                     "no_key")
        try:
            reader: BinaryIO | None = await self._in_thread(self.store.open,
                                                            self.key_of(blob.sha256))
        except ObjectStoreError as exc:
            metrics.FETCHES.labels(self.server_name, "failed").inc()
            raise StorageUnavailable(str(exc), "object_store") from exc
        if reader is None:
            logger.warning("media storage: %s maps to blob %s, which the object store does "
                           "not have", path, blob.sha256)
            metrics.FETCHES.labels(self.server_name, "missing").inc()
            return None
        metrics.FETCHES.labels(self.server_name, "found").inc()
        metrics.FETCH_SECONDS.labels(self.server_name).observe(time.monotonic() - started)
        if blob.encrypted:
            assert self._key is not None
            return DecryptingReader(reader, self._key, blob.sha256)  # type: ignore[return-value]
        return reader

    async def presign(self, path: str, lifetime_s: int, *, content_type: str,
                      content_disposition: str, cache_control: str) -> str | None:
        """A short-lived URL of the file's object, or None (not stored, encrypted, or a
        backend without URLs): then the download is streamed."""
        blob = await self.tables.blob_of_path(path)
        if blob is None or blob.encrypted:
            return None
        try:
            url: str | None = await self._in_thread(
                lambda: self.store.presign_get(
                    self.key_of(blob.sha256), lifetime_s, content_type=content_type,
                    content_disposition=content_disposition, cache_control=cache_control))
        except ObjectStoreError as exc:
            raise StorageUnavailable(str(exc), "object_store") from exc
        return url

    async def refresh_totals(self) -> None:
        """Set the stored-bytes gauges from the tables."""
        totals = await self.tables.totals()
        metrics.LOGICAL_BYTES.labels(self.server_name).set(totals.logical_bytes)
        metrics.PHYSICAL_BYTES.labels(self.server_name).set(totals.physical_bytes)
        metrics.MAPPINGS.labels(self.server_name).set(totals.mappings)
        metrics.BLOBS.labels(self.server_name).set(totals.blobs)
