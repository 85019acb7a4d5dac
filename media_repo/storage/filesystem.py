"""A plain directory as the object store: NFS-style shared mounts, and tests without S3.

Objects are files under ``root`` named by their key. A write goes to a temporary file beside
the final name, is flushed to disk and renamed into place, so a reader never sees half an
object and a crash leaves at worst a temporary file (an orphan the reconciler removes).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from hearth.media_repo.storage.objects import ListedObject, ObjectStoreError

COPY_CHUNK = 1 << 20


class FilesystemObjectStore:
    """Objects as files under one directory."""

    def __init__(self, root: str | Path) -> None:
        self._root = Path(root)

    def __repr__(self) -> str:
        return f"FilesystemObjectStore({str(self._root)!r})"

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"not an object key: {key!r}")
        return self._root.joinpath(*parts)

    def put_file(self, key: str, path: str, content_type: str) -> None:
        with open(path, "rb") as source:
            self.put_stream(key, source, content_type)

    def put_stream(self, key: str, stream: BinaryIO, content_type: str) -> None:
        final = self._path(key)
        temporary = final.with_name(f".{final.name}.tmp-{secrets.token_hex(6)}")
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "wb") as target:
                shutil.copyfileobj(stream, target, COPY_CHUNK)
                target.flush()
                os.fsync(target.fileno())
            os.replace(temporary, final)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise ObjectStoreError(f"cannot write {key} under {self._root}: {exc}") from exc

    def open(self, key: str) -> BinaryIO | None:
        try:
            return open(self._path(key), "rb")  # the caller closes it
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ObjectStoreError(f"cannot read {key} under {self._root}: {exc}") from exc

    def head(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ObjectStoreError(f"cannot stat {key} under {self._root}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise ObjectStoreError(f"cannot delete {key} under {self._root}: {exc}") from exc

    def list(self, prefix: str) -> Iterator[ListedObject]:
        if not self._root.is_dir():
            raise ObjectStoreError(f"{self._root} is not a directory")
        for folder, _, files in os.walk(self._root):
            for name in sorted(files):
                path = Path(folder, name)
                key = path.relative_to(self._root).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue  # deleted while we walked
                yield ListedObject(key, stat.st_size, int(stat.st_mtime * 1000))

    def presign_get(self, key: str, lifetime_s: int, *, content_type: str,
                    content_disposition: str, cache_control: str) -> str | None:
        return None  # a directory has no URLs: downloads are streamed
