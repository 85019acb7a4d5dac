"""The provider's tables on SQLite and PostgreSQL: mapping, claiming and deleting blobs."""

from __future__ import annotations

import hashlib

import pytest

from hearth.ai_bot.budget.db import Database
from hearth.media_repo.storage.blobs import Blob, BlobBeingDeleted, BlobTables, MediaRef, Thumbnail
from tests.unit.media_repo.storage.conftest import runner

SHA = hashlib.sha256(b"content").hexdigest()
BLOB = Blob(SHA, 7, 7, encrypted=False)
REF = MediaRef("", "abcdefgh")
T0 = 1_000_000


@pytest.fixture
def tables(tables_db: Database) -> BlobTables:
    return BlobTables(runner(tables_db))


async def test_tables_migration_is_idempotent(tables: BlobTables) -> None:
    """The migration ran once (fixture); running it again changes nothing."""
    assert await tables.migrate() == 1
    assert await tables.schema_version() == 1


async def test_tables_record_maps_two_paths_to_one_blob(tables: BlobTables) -> None:
    """Two media IDs with the same content: two mappings, one blob, totals say so."""
    await tables.record("local_content/ab/cd/efgh", REF, BLOB, True, T0)
    claim = await tables.claim_blob(SHA, T0 + 1)
    assert claim.blob == BLOB and not claim.deleting
    await tables.record("local_content/ij/kl/mnop", MediaRef("", "ijklmnop"), BLOB, False,
                        T0 + 1)
    assert await tables.blob_of_path("local_content/ij/kl/mnop") == BLOB
    totals = await tables.totals()
    assert (totals.mappings, totals.logical_bytes, totals.blobs, totals.physical_bytes) == (
        2, 14, 1, 7)


async def test_tables_claim_of_unknown_content_finds_nothing(tables: BlobTables) -> None:
    """No blob with that hash: the claim is empty (the caller uploads)."""
    claim = await tables.claim_blob(SHA, T0)
    assert claim.blob is None and not claim.deleting


async def test_tables_record_of_a_thumbnail_keeps_its_key(tables: BlobTables) -> None:
    """Re-recording a path replaces its mapping (thumbnails are regenerated in place)."""
    thumb = MediaRef("", "abcdefgh", Thumbnail(32, 32, "image/png", "crop"))
    other = Blob(hashlib.sha256(b"other").hexdigest(), 5, 5, False)
    await tables.record("local_thumbnails/ab/cd/efgh/32-32-image-png-crop", thumb, BLOB, True,
                        T0)
    await tables.record("local_thumbnails/ab/cd/efgh/32-32-image-png-crop", thumb, other,
                        True, T0)
    assert await tables.blob_of_path("local_thumbnails/ab/cd/efgh/32-32-image-png-crop") == \
        other


async def test_tables_blob_marked_for_deletion_is_not_claimed(tables: BlobTables) -> None:
    """While the reconciler deletes a blob, claims say so and recording onto it is refused."""
    await tables.record("p", REF, BLOB, True, T0)
    await tables.delete_mappings(["p"])
    assert await tables.mark_deleting(SHA, T0 + 10, T0, T0 + 20)
    assert (await tables.claim_blob(SHA, T0 + 30)).deleting
    with pytest.raises(BlobBeingDeleted):
        await tables.record("q", REF, BLOB, False, T0 + 30)
    assert await tables.blob_of_path("q") is None


async def test_tables_mark_deleting_refuses_a_referenced_or_recent_blob(
        tables: BlobTables) -> None:
    """A blob still mapped, or claimed after the cutoff, is never marked."""
    await tables.record("p", REF, BLOB, True, T0)
    assert not await tables.mark_deleting(SHA, T0 + 10, T0, T0 + 20)  # still mapped
    await tables.delete_mappings(["p"])
    assert not await tables.mark_deleting(SHA, T0, T0, T0 + 20)  # claimed at the cutoff
    assert await tables.unreferenced_blobs(T0 + 1, T0, 10) == [BLOB]


async def test_tables_forget_only_by_the_deletion_that_marked(tables: BlobTables) -> None:
    """The row goes only with the matching mark; an unmarked blob is claimable again."""
    await tables.record("p", REF, BLOB, True, T0)
    await tables.delete_mappings(["p"])
    assert await tables.mark_deleting(SHA, T0 + 10, T0, T0 + 20)
    assert not await tables.forget_blob(SHA, T0 + 21)
    await tables.unmark_deleting(SHA, T0 + 20)
    assert (await tables.claim_blob(SHA, T0 + 30)).blob == BLOB
    assert await tables.mark_deleting(SHA, T0 + 40, T0, T0 + 50)
    assert await tables.forget_blob(SHA, T0 + 50)
    assert await tables.known_blobs([SHA]) == set()


async def test_tables_mapped_paths_in_batches(tables: BlobTables) -> None:
    """Which of many paths have a mapping, past the batch size."""
    for index in range(3):
        await tables.record(f"path/{index}", REF, BLOB, index == 0, T0)
    asked = [f"path/{index}" for index in range(1200)]
    assert await tables.mapped_paths(asked) == {"path/0", "path/1", "path/2"}
