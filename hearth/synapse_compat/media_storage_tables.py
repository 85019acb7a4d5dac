"""Which stored media files Synapse no longer knows about (read only, Synapse's media tables).

The object storage provider keeps a mapping per file of Synapse's media store; when Synapse
deletes or purges media (admin API, retention, remote cache purge) it drops its rows and the
local files, and never tells the provider. This query finds the mappings whose row is gone:
local originals in ``local_media_repository`` (by media ID), local thumbnails in
``local_media_repository_thumbnails`` (by media ID and size, type, method), remote originals in
``remote_media_cache`` and remote thumbnails in ``remote_media_cache_thumbnails`` (by origin and
``filesystem_id``, the file ID in the remote paths). Quarantined media keeps its rows.
"""

from __future__ import annotations

from hearth.owned_tables import Cursor

_THUMBNAIL_MATCH = ("t.thumbnail_width = o.thumbnail_width "
                    "AND t.thumbnail_height = o.thumbnail_height "
                    "AND t.thumbnail_type = o.thumbnail_type "
                    "AND t.thumbnail_method = o.thumbnail_method")


def media_gone_txn(txn: Cursor, objects_table: str, stored_before_ms: int, after_path: str,
                   limit: int) -> tuple[list[str], str | None]:
    """Paths in ``objects_table`` (ours: path, media_origin ('' = local), file_id, thumbnail_*,
    stored_ts) stored before the cutoff whose media Synapse no longer has; scans at most
    ``limit`` mappings after ``after_path`` and returns where to go on from (None: done)."""
    txn.execute(
        f"SELECT o.path, CASE "  # noqa: S608 - the table name is a constant of ours
        "WHEN o.media_origin = '' AND o.thumbnail_width IS NULL THEN NOT EXISTS ("
        " SELECT 1 FROM local_media_repository m WHERE m.media_id = o.file_id) "
        "WHEN o.media_origin = '' THEN NOT EXISTS ("
        " SELECT 1 FROM local_media_repository_thumbnails t WHERE t.media_id = o.file_id "
        f" AND {_THUMBNAIL_MATCH}) "
        "WHEN o.thumbnail_width IS NULL THEN NOT EXISTS ("
        " SELECT 1 FROM remote_media_cache r WHERE r.media_origin = o.media_origin "
        " AND r.filesystem_id = o.file_id) "
        "ELSE NOT EXISTS ("
        " SELECT 1 FROM remote_media_cache_thumbnails t WHERE t.media_origin = o.media_origin "
        f" AND t.filesystem_id = o.file_id AND {_THUMBNAIL_MATCH}) END "
        f"FROM {objects_table} o WHERE o.path > ? AND o.stored_ts < ? "
        "ORDER BY o.path LIMIT ?",
        (after_path, stored_before_ms, limit))
    rows = txn.fetchall()
    gone = [str(row[0]) for row in rows if row[1]]
    return gone, (str(rows[-1][0]) if len(rows) == limit else None)
