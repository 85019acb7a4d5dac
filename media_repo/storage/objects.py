"""What every object store backend offers, and how a blob is named in it.

The rest of the storage code talks to this protocol only, so S3 (any compatible endpoint) and a
plain directory (NFS-style mounts, tests) are interchangeable. Every method blocks: callers run
them on a thread, never on Synapse's reactor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

BLOBS = "blobs/"
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ObjectStoreError(Exception):
    """The object store could not be reached or refused the operation (try again later)."""


@dataclass(frozen=True)
class ListedObject:
    """One object found by :meth:`ObjectStore.list`."""

    key: str
    size: int
    last_modified_ms: int


class ObjectStore(Protocol):
    """A flat key -> bytes store: S3 or a directory."""

    def put_file(self, key: str, path: str, content_type: str) -> None:
        """Store the file at ``path`` under ``key`` (big files in parts), replacing any."""

    def put_stream(self, key: str, stream: BinaryIO, content_type: str) -> None:
        """Store what ``stream.read`` gives until it is exhausted, under ``key``."""

    def open(self, key: str) -> BinaryIO | None:
        """A reader of the object's bytes (close it), or None when there is no such object."""

    def head(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is no such object."""

    def delete(self, key: str) -> None:
        """Remove the object; no error when it is already gone."""

    def list(self, prefix: str) -> Iterator[ListedObject]:
        """Every object whose key starts with ``prefix``."""

    def presign_get(self, key: str, lifetime_s: int, *, content_type: str,
                    content_disposition: str, cache_control: str) -> str | None:
        """A URL anyone holding it may GET for ``lifetime_s`` seconds, answering with these
        headers; None when the backend has no such URLs."""


def blob_key(prefix: str, sha256: str) -> str:
    """Where the blob with this content hash lives: ``<prefix>blobs/ab/abcdef...``."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return f"{prefix}{BLOBS}{sha256[:2]}/{sha256}"


def sha256_of_key(prefix: str, key: str) -> str | None:
    """The content hash a blob key names, or None for any other key."""
    rest = key.removeprefix(prefix + BLOBS) if key.startswith(prefix + BLOBS) else None
    if rest is None:
        return None
    head, _, digest = rest.partition("/")
    if _SHA256.fullmatch(digest) and head == digest[:2]:
        return digest
    return None
