"""The prompt → answer links on SQLite and on PostgreSQL: save, look up both ways, prune."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hearth.ai_bot.budget.db import Database, open_database
from hearth.ai_bot.budget.ledger import SqlLedger
from hearth.ai_bot.links import AnswerLink, AnswerLinks
from tests.harness.postgres import database_url

ROOM, ALICE = "!room:localhost", "@alice:localhost"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database on each engine."""
    with database_url(request.param, tmp_path / "ledger.db", "hearth_links") as url:
        yield url


@pytest.fixture
async def db(url: str) -> AsyncIterator[Database]:
    opened = await open_database(url)
    yield opened
    await opened.close()


async def test_links_found_by_prompt_and_by_any_answer_event(db: Database) -> None:
    """A long answer's events all lead back to the prompt, in order."""
    links = await AnswerLinks.open(db)
    await links.save(ROOM, "$prompt", ALICE, ["$a1", "$a2"])
    expected = AnswerLink(ROOM, "$prompt", ALICE, ("$a1", "$a2"))
    assert await links.for_prompt("$prompt") == expected
    assert await links.for_answer("$a2") == expected
    assert await links.for_answer("$other") is None and await links.for_prompt("$a1") is None


async def test_links_saved_again_replace_the_old_ones(db: Database) -> None:
    """A regenerated answer with fewer events leaves no stale follow-up behind."""
    links = await AnswerLinks.open(db)
    await links.save(ROOM, "$prompt", ALICE, ["$a1", "$a2"])
    await links.save(ROOM, "$prompt", ALICE, ["$a1"])
    assert (await links.for_prompt("$prompt")) == AnswerLink(ROOM, "$prompt", ALICE, ("$a1",))
    assert await links.for_answer("$a2") is None
    await links.save(ROOM, "$prompt", ALICE, [])  # nothing sent: nothing changes
    assert await links.for_answer("$a1") is not None


async def test_links_pruned_by_age_and_migrated_once_beside_the_ledger(url: str) -> None:
    """Links live in the ledger's database with their own schema version; pruning keeps new
    links."""
    ledger = await SqlLedger.open(url)
    try:
        for _ in range(2):
            links = await AnswerLinks.open(ledger.database)
        await links.save(ROOM, "$prompt", ALICE, ["$a1"])
        assert await links.prune(older_than_s=3600) == 0
        assert await links.prune(older_than_s=-1) == 1
        assert await links.for_prompt("$prompt") is None
        versions = await ledger.database.run(lambda txn: txn.all(
            "SELECT version FROM ai_answer_links_schema_version"))
        assert versions == [(1,)]
    finally:
        await ledger.close()
