"""Keeps Synapse's local media store under a size bound once files are in object storage.

Synapse writes every file to its media store and reads from there first; with object storage
that store is only a cache. An eviction pass walks it, and while the total is over the bound
removes the least recently used files (latest of access and modification time) that have a
mapping, so are safely in the object store. A file without one (an upload in progress, the URL
preview cache, anything the provider never stored) is never removed. Synapse fetches an
evicted file back through the provider when it is asked for.

Directories are left in place: Synapse creates a file's directory just before opening it, and
removing an empty one in between would fail that write.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearth.media_repo.storage import metrics

logger = logging.getLogger(__name__)

InThread = Callable[..., Awaitable[Any]]
MappedPaths = Callable[[Sequence[str]], Awaitable[set[str]]]
BATCH = 500


@dataclass(frozen=True)
class CachedFile:
    path: str  # relative to the media store, with "/"
    size: int
    last_used: float


@dataclass(frozen=True)
class Eviction:
    """One pass: what was removed, and the store's size after it."""

    files: int
    bytes: int
    total_after: int


def scan(root: Path) -> list[CachedFile]:
    """Every file under ``root``, least recently used first."""
    found: list[CachedFile] = []
    for folder, _, names in os.walk(root):
        for name in names:
            full = os.path.join(folder, name)
            try:
                stat = os.stat(full)
            except FileNotFoundError:
                continue
            relative = Path(full).relative_to(root).as_posix()
            found.append(CachedFile(relative, stat.st_size, max(stat.st_atime, stat.st_mtime)))
    found.sort(key=lambda item: item.last_used)
    return found


def remove(root: Path, paths: Sequence[str]) -> None:
    for path in paths:
        (root / path).unlink(missing_ok=True)


class LocalCache:
    """The bound on one media store; ``note_stored`` after each stored file, ``evict`` to
    bring it under the bound."""

    def __init__(self, root: str | Path, max_bytes: int, mapped_paths: MappedPaths,
                 in_thread: InThread, server_name: str) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._mapped_paths = mapped_paths
        self._in_thread = in_thread
        self._server_name = server_name
        self._estimate: int | None = None  # unknown until the first pass
        self._running = False

    def note_stored(self, size: int) -> bool:
        """A file of ``size`` bytes was stored; whether an eviction pass is due."""
        if self._estimate is None:
            return True
        self._estimate += size
        return self._estimate > self.max_bytes

    async def evict(self) -> Eviction:
        """Remove mapped files, least recently used first, until the store fits the bound."""
        if self._running:
            return Eviction(0, 0, self._estimate or 0)
        self._running = True
        try:
            return await self._evict()
        finally:
            self._running = False

    async def _evict(self) -> Eviction:
        files: list[CachedFile] = await self._in_thread(scan, self.root)
        total = sum(item.size for item in files)
        removed_files = removed_bytes = 0
        for start in range(0, len(files), BATCH):
            if total <= self.max_bytes:
                break
            batch = files[start:start + BATCH]
            mapped = await self._mapped_paths([item.path for item in batch])
            chosen: list[CachedFile] = []
            for item in batch:
                if total <= self.max_bytes:
                    break
                if item.path in mapped:
                    chosen.append(item)
                    total -= item.size
            await self._in_thread(remove, self.root, [item.path for item in chosen])
            removed_files += len(chosen)
            removed_bytes += sum(item.size for item in chosen)
        self._estimate = total
        metrics.CACHE_EVICTIONS.labels(self._server_name).inc(removed_files)
        metrics.CACHE_EVICTED_BYTES.labels(self._server_name).inc(removed_bytes)
        metrics.CACHE_BYTES.labels(self._server_name).set(total)
        if removed_files:
            logger.info("media storage: evicted %d files (%d bytes) from the local media "
                        "store; %d bytes remain (bound %d)", removed_files, removed_bytes,
                        total, self.max_bytes)
        return Eviction(removed_files, removed_bytes, total)
