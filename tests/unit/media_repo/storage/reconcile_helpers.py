"""Shared pieces of the reconciler tests: Synapse rows as Synapse writes them, a reconciler."""

from __future__ import annotations

from pathlib import Path

from hearth.ai_bot.budget.db import Database, Txn
from hearth.media_repo.storage.media_objects import MediaObjects
from hearth.media_repo.storage.reconciler import Reconciler
from tests.unit.media_repo.storage.conftest import SERVER, Clock, in_thread, runner

GRACE_MS = 60_000


async def synapse_row(db: Database, sql: str, *params: object) -> None:
    """Insert or delete a row of Synapse's media tables, as its media repository does."""
    def run(txn: Txn) -> None:
        txn.execute(sql, params)
    await db.run(run)


async def add_local_media(db: Database, media_id: str, *, quarantined: bool = False) -> None:
    await synapse_row(db, "INSERT INTO local_media_repository (media_id, media_type, "
                      "media_length, created_ts, user_id, quarantined_by) "
                      "VALUES (?, 'image/png', 10, 0, '@u:hs.test', ?)", media_id,
                      "@admin:hs.test" if quarantined else None)


async def delete_local_media(db: Database, media_id: str) -> None:
    """What Synapse's delete admin API does to the tables (files aside)."""
    await synapse_row(db, "DELETE FROM local_media_repository WHERE media_id = ?", media_id)
    await synapse_row(db, "DELETE FROM local_media_repository_thumbnails WHERE media_id = ?",
                      media_id)


def reconciler(db: Database, objects: MediaObjects, media_store: Path,
               clock: Clock) -> Reconciler:
    return Reconciler(run=runner(db), tables=objects.tables, store=objects.store,
                      prefix=objects.prefix, media_store_path=str(media_store),
                      grace_ms=GRACE_MS, in_thread=in_thread, clock=clock, server_name=SERVER)
