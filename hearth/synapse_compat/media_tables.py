"""The media pipeline's reads of Synapse's media tables (read only), in one place.

``local_media_repository`` is Synapse's record of each local upload: its type, name, size,
uploader, quarantine state and (since schema 91) the SHA-256 of the stored bytes. The download
front reads it to decide a redirect exactly as Synapse decides a download (quarantined media
is never served); the contract tests run each query against a real Synapse's schema. The
object store's queries are in ``media_storage_tables``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hearth.owned_tables import Cursor


@dataclass(frozen=True)
class LocalMedia:
    """One row of ``local_media_repository``."""

    media_id: str
    media_type: str
    media_length: int | None  # None until an asynchronous upload has arrived
    upload_name: str | None
    user_id: str | None
    quarantined: bool
    sha256: str | None
    created_ts: int


def local_media_txn(txn: Cursor, media_id: str) -> LocalMedia | None:
    txn.execute(
        "SELECT media_id, media_type, media_length, upload_name, user_id, quarantined_by, "
        "sha256, created_ts FROM local_media_repository WHERE media_id = ?", (media_id,))
    row = txn.fetchone()
    if row is None:
        return None
    return LocalMedia(str(row[0]), str(row[1]), None if row[2] is None else int(row[2]),
                      row[3], row[4], row[5] is not None, row[6], int(row[7]))


def media_usage_by_user_txn(txn: Cursor, user_id: str) -> tuple[int, int]:
    """(files, bytes) the user has stored (URL previews excluded)."""
    txn.execute("SELECT COUNT(*), COALESCE(SUM(media_length), 0) FROM local_media_repository "
                "WHERE user_id = ? AND url_cache IS NULL", (user_id,))
    row = txn.fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def media_totals_txn(txn: Cursor) -> tuple[int, int, int]:
    """(files, bytes, distinct SHA-256) of all local media: the logical store and its dedup."""
    txn.execute("SELECT COUNT(*), COALESCE(SUM(media_length), 0), COUNT(DISTINCT sha256) "
                "FROM local_media_repository WHERE url_cache IS NULL")
    row = txn.fetchone()
    return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)


def media_sizes_txn(txn: Cursor, media_ids: list[str]) -> tuple[int, int]:
    """(files, bytes) of the given local media IDs that are still stored."""
    files = total = 0
    for start in range(0, len(media_ids), 500):
        chunk = media_ids[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        txn.execute("SELECT COUNT(*), COALESCE(SUM(media_length), 0) FROM "  # noqa: S608
                    f"local_media_repository WHERE media_id IN ({marks})", chunk)
        row = txn.fetchone()
        files += int(row[0])
        total += int(row[1])
    return files, total
