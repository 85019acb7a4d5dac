"""The storage provider's tables: which blob each of Synapse's files is, and the blobs.

``hearth_media_objects`` maps a path of Synapse's media store (``local_content/ab/cd/ef``,
``remote_thumbnail/...``) to the SHA-256 of its content; ``hearth_media_blobs`` has one row per
distinct content held in the object store. Two identical uploads are two mappings and one
blob, so access control stays Synapse's, per media ID.

A blob row is written only after its object is stored, and a mapping only with (or after) its
blob row: a crash leaves at worst an object without a row, never a row without an object.
``touched_ts`` is when a mapping last claimed the blob; ``deleting_ts`` is set while the
reconciler deletes an unreferenced blob's object, so no upload claims it meanwhile.

Portable SQL (``?`` placeholders, TEXT/BIGINT/INTEGER, ``ON CONFLICT``), run through Synapse's
``run_db_interaction`` by the provider and on sqlite3 directly in the unit tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hearth.owned_tables import Cursor, ModuleTables, Runner, Schema

OBJECTS = "hearth_media_objects"
BLOBS = "hearth_media_blobs"
BATCH = 500

SCHEMA = Schema("hearth_media_storage_schema_version", (
    (1, (
        f"""CREATE TABLE IF NOT EXISTS {BLOBS} (
            sha256 TEXT NOT NULL PRIMARY KEY,
            size BIGINT NOT NULL,
            stored_size BIGINT NOT NULL,
            encrypted INTEGER NOT NULL,
            stored_ts BIGINT NOT NULL,
            touched_ts BIGINT NOT NULL,
            deleting_ts BIGINT
        )""",
        f"""CREATE TABLE IF NOT EXISTS {OBJECTS} (
            path TEXT NOT NULL PRIMARY KEY,
            media_origin TEXT NOT NULL,
            file_id TEXT NOT NULL,
            thumbnail_width INTEGER,
            thumbnail_height INTEGER,
            thumbnail_type TEXT,
            thumbnail_method TEXT,
            sha256 TEXT NOT NULL,
            size BIGINT NOT NULL,
            stored_ts BIGINT NOT NULL
        )""",
        f"CREATE INDEX IF NOT EXISTS {OBJECTS}_sha256 ON {OBJECTS} (sha256)",
        f"CREATE INDEX IF NOT EXISTS {BLOBS}_touched ON {BLOBS} (touched_ts)",
    )),
))
LATEST = SCHEMA.latest


@dataclass(frozen=True)
class Thumbnail:
    """Which thumbnail of a media file (Synapse's thumbnail table key)."""

    width: int
    height: int
    type: str
    method: str


@dataclass(frozen=True)
class MediaRef:
    """Which of Synapse's files a path is: origin ('' for local), file ID, thumbnail."""

    origin: str
    file_id: str
    thumbnail: Thumbnail | None = None


@dataclass(frozen=True)
class Blob:
    """One distinct content in the object store."""

    sha256: str
    size: int  # plaintext bytes
    stored_size: int  # bytes in the object store
    encrypted: bool


@dataclass(frozen=True)
class Claim:
    """What ``claim_blob_txn`` found: the blob to reuse, or that it is being deleted."""

    blob: Blob | None
    deleting: bool = False


@dataclass(frozen=True)
class Totals:
    """Logical (what Synapse stored) and physical (what the object store holds) bytes."""

    mappings: int
    logical_bytes: int
    blobs: int
    physical_bytes: int


# --- transaction functions -------------------------------------------------------------


def claim_blob_txn(txn: Cursor, sha256: str, now_ms: int) -> Claim:
    """The stored blob with this content, marked as just claimed; or none; or being deleted."""
    txn.execute(f"SELECT size, stored_size, encrypted, deleting_ts FROM {BLOBS} "  # noqa: S608
                "WHERE sha256 = ?", (sha256,))
    row = txn.fetchone()
    if row is None:
        return Claim(None)
    if row[3] is not None:
        return Claim(None, deleting=True)
    txn.execute(f"UPDATE {BLOBS} SET touched_ts = ? WHERE sha256 = ?",  # noqa: S608
                (now_ms, sha256))
    return Claim(Blob(sha256, int(row[0]), int(row[1]), bool(row[2])))


class BlobBeingDeleted(Exception):
    """The blob's object is being deleted by the reconciler right now; store it again."""


def record_txn(txn: Cursor, path: str, ref: MediaRef, blob: Blob, new_blob: bool,
               now_ms: int) -> None:
    """Map ``path`` to ``blob`` (writing the blob row first when it was just uploaded)."""
    if new_blob:
        txn.execute(
            f"INSERT INTO {BLOBS} (sha256, size, stored_size, encrypted, stored_ts, "  # noqa: S608
            "touched_ts) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO UPDATE SET "
            "stored_size = excluded.stored_size, encrypted = excluded.encrypted, "
            "touched_ts = excluded.touched_ts",
            (blob.sha256, blob.size, blob.stored_size, int(blob.encrypted), now_ms, now_ms))
    txn.execute(f"SELECT deleting_ts FROM {BLOBS} WHERE sha256 = ?",  # noqa: S608
                (blob.sha256,))
    row = txn.fetchone()
    if row is None or row[0] is not None:
        raise BlobBeingDeleted(blob.sha256)
    thumb = ref.thumbnail
    txn.execute(
        f"INSERT INTO {OBJECTS} (path, media_origin, file_id, thumbnail_width, "  # noqa: S608
        "thumbnail_height, thumbnail_type, thumbnail_method, sha256, size, stored_ts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
        "media_origin = excluded.media_origin, file_id = excluded.file_id, "
        "thumbnail_width = excluded.thumbnail_width, "
        "thumbnail_height = excluded.thumbnail_height, "
        "thumbnail_type = excluded.thumbnail_type, "
        "thumbnail_method = excluded.thumbnail_method, sha256 = excluded.sha256, "
        "size = excluded.size, stored_ts = excluded.stored_ts",
        (path, ref.origin, ref.file_id, thumb.width if thumb else None,
         thumb.height if thumb else None, thumb.type if thumb else None,
         thumb.method if thumb else None, blob.sha256, blob.size, now_ms))


def blob_of_path_txn(txn: Cursor, path: str) -> Blob | None:
    """The blob a path of Synapse's is mapped to, or None."""
    txn.execute(f"SELECT b.sha256, b.size, b.stored_size, b.encrypted FROM {OBJECTS} o "  # noqa: S608
                f"JOIN {BLOBS} b ON b.sha256 = o.sha256 WHERE o.path = ?", (path,))
    row = txn.fetchone()
    return Blob(str(row[0]), int(row[1]), int(row[2]), bool(row[3])) if row else None


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def mapped_paths_txn(txn: Cursor, paths: Sequence[str]) -> set[str]:
    """Those of ``paths`` that have a mapping (so are safely in the object store)."""
    found: set[str] = set()
    for start in range(0, len(paths), BATCH):
        batch = list(paths[start:start + BATCH])
        txn.execute(f"SELECT path FROM {OBJECTS} "  # noqa: S608
                    f"WHERE path IN ({_placeholders(len(batch))})", batch)
        found.update(str(row[0]) for row in txn.fetchall())
    return found


def delete_mappings_txn(txn: Cursor, paths: Sequence[str]) -> int:
    """Forget these mappings; how many there were."""
    removed = 0
    for path in paths:
        txn.execute(f"DELETE FROM {OBJECTS} WHERE path = ?", (path,))  # noqa: S608
        removed += max(txn.rowcount, 0)
    return removed


_UNREFERENCED = (f"NOT EXISTS (SELECT 1 FROM {OBJECTS} o "  # noqa: S608 - constants
                 f"WHERE o.sha256 = {BLOBS}.sha256)")


def unreferenced_blobs_txn(txn: Cursor, touched_before_ms: int, stale_deleting_before_ms: int,
                           limit: int) -> list[Blob]:
    """Blobs no mapping points at, last claimed before the cutoff (or whose deletion was
    left unfinished before ``stale_deleting_before_ms``)."""
    txn.execute(
        f"SELECT sha256, size, stored_size, encrypted FROM {BLOBS} "  # noqa: S608
        "WHERE touched_ts < ? AND (deleting_ts IS NULL OR deleting_ts < ?) "
        f"AND {_UNREFERENCED} ORDER BY sha256 LIMIT ?",
        (touched_before_ms, stale_deleting_before_ms, limit))
    return [Blob(str(r[0]), int(r[1]), int(r[2]), bool(r[3])) for r in txn.fetchall()]


def mark_deleting_txn(txn: Cursor, sha256: str, touched_before_ms: int,
                      stale_deleting_before_ms: int, now_ms: int) -> bool:
    """Mark the blob as being deleted if it is still unreferenced and unclaimed."""
    txn.execute(
        f"UPDATE {BLOBS} SET deleting_ts = ? WHERE sha256 = ? AND touched_ts < ? "  # noqa: S608
        f"AND (deleting_ts IS NULL OR deleting_ts < ?) AND {_UNREFERENCED}",
        (now_ms, sha256, touched_before_ms, stale_deleting_before_ms))
    return txn.rowcount == 1


def forget_blob_txn(txn: Cursor, sha256: str, deleting_ts: int) -> bool:
    """Drop the row of a blob whose object is gone (only the deletion that marked it)."""
    txn.execute(f"DELETE FROM {BLOBS} WHERE sha256 = ? AND deleting_ts = ?",  # noqa: S608
                (sha256, deleting_ts))
    return txn.rowcount == 1


def unmark_deleting_txn(txn: Cursor, sha256: str, deleting_ts: int) -> None:
    """The object could not be deleted: leave the blob as it was, for the next pass."""
    txn.execute(f"UPDATE {BLOBS} SET deleting_ts = NULL "  # noqa: S608
                "WHERE sha256 = ? AND deleting_ts = ?", (sha256, deleting_ts))


def known_blobs_txn(txn: Cursor, digests: Sequence[str]) -> set[str]:
    """Those of ``digests`` that have a blob row."""
    found: set[str] = set()
    for start in range(0, len(digests), BATCH):
        batch = list(digests[start:start + BATCH])
        txn.execute(f"SELECT sha256 FROM {BLOBS} "  # noqa: S608
                    f"WHERE sha256 IN ({_placeholders(len(batch))})", batch)
        found.update(str(row[0]) for row in txn.fetchall())
    return found


def totals_txn(txn: Cursor) -> Totals:
    """How many mappings and blobs there are, and their bytes."""
    txn.execute(f"SELECT COUNT(*), COALESCE(SUM(size), 0) FROM {OBJECTS}")  # noqa: S608
    mappings = txn.fetchone()
    txn.execute(f"SELECT COUNT(*), COALESCE(SUM(stored_size), 0) FROM {BLOBS}")  # noqa: S608
    blobs = txn.fetchone()
    return Totals(int(mappings[0]), int(mappings[1]), int(blobs[0]), int(blobs[1]))


class BlobTables(ModuleTables):
    """Async access to the tables through a runner (Synapse's ``run_db_interaction``)."""

    def __init__(self, run: Runner) -> None:
        super().__init__(run, SCHEMA, "hearth_media")

    async def claim_blob(self, sha256: str, now_ms: int) -> Claim:
        return await self._run("hearth_media_claim_blob", claim_blob_txn, sha256, now_ms)

    async def record(self, path: str, ref: MediaRef, blob: Blob, new_blob: bool,
                     now_ms: int) -> None:
        await self._run("hearth_media_record", record_txn, path, ref, blob, new_blob, now_ms)

    async def blob_of_path(self, path: str) -> Blob | None:
        return await self._run("hearth_media_blob_of_path", blob_of_path_txn, path)

    async def mapped_paths(self, paths: Sequence[str]) -> set[str]:
        return await self._run("hearth_media_mapped_paths", mapped_paths_txn, paths)

    async def delete_mappings(self, paths: Sequence[str]) -> int:
        return await self._run("hearth_media_delete_mappings", delete_mappings_txn, paths)

    async def unreferenced_blobs(self, touched_before_ms: int, stale_deleting_before_ms: int,
                                 limit: int) -> list[Blob]:
        return await self._run("hearth_media_unreferenced_blobs", unreferenced_blobs_txn,
                               touched_before_ms, stale_deleting_before_ms, limit)

    async def mark_deleting(self, sha256: str, touched_before_ms: int,
                            stale_deleting_before_ms: int, now_ms: int) -> bool:
        return await self._run("hearth_media_mark_deleting", mark_deleting_txn, sha256,
                               touched_before_ms, stale_deleting_before_ms, now_ms)

    async def forget_blob(self, sha256: str, deleting_ts: int) -> bool:
        return await self._run("hearth_media_forget_blob", forget_blob_txn, sha256,
                               deleting_ts)

    async def unmark_deleting(self, sha256: str, deleting_ts: int) -> None:
        await self._run("hearth_media_unmark_deleting", unmark_deleting_txn, sha256,
                        deleting_ts)

    async def known_blobs(self, digests: Sequence[str]) -> set[str]:
        return await self._run("hearth_media_known_blobs", known_blobs_txn, digests)

    async def totals(self) -> Totals:
        return await self._run("hearth_media_totals", totals_txn)
