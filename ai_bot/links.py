"""Which answer events belong to which prompt, kept in the bot's database.

Editing a prompt or reacting 🔁 to an answer must still work after the bot restarts, so the
prompt → answer link lives next to the budget ledger (same database, SQLite or PostgreSQL),
not only in the process. Only event IDs, the room and the asker are stored, never message
text: prompts from encrypted rooms stay encrypted. The table has its own schema version (apart
from the ledger's), migrated by ``hearth.owned_tables``, and old links are pruned on start.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from hearth.ai_bot.budget.db import Database, Txn
from hearth.owned_tables import Schema

# Links older than this are pruned on start: nobody regenerates a month-old answer.
RETENTION_S = 30 * 24 * 3600

_LINKS = """
CREATE TABLE IF NOT EXISTS ai_answer_links (
    answer_event_id TEXT PRIMARY KEY,
    prompt_event_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    position INTEGER NOT NULL,
    created_ms BIGINT NOT NULL
)"""

SCHEMA = Schema("ai_answer_links_schema_version", (
    (1, (
        _LINKS,
        "CREATE INDEX IF NOT EXISTS ai_answer_links_prompt "
        "ON ai_answer_links (prompt_event_id)",
        "CREATE INDEX IF NOT EXISTS ai_answer_links_created ON ai_answer_links (created_ms)",
    )),
))


@dataclass(frozen=True)
class AnswerLink:
    """A prompt and the events of its answer (several when a long answer continued)."""

    room_id: str
    prompt_event_id: str
    sender: str
    answer_event_ids: tuple[str, ...]


def _load_txn(txn: Txn, prompt_event_id: str) -> AnswerLink | None:
    rows = txn.all("SELECT answer_event_id, room_id, sender FROM ai_answer_links "
                   "WHERE prompt_event_id = ? ORDER BY position", (prompt_event_id,))
    if not rows:
        return None
    return AnswerLink(str(rows[0][1]), prompt_event_id, str(rows[0][2]),
                      tuple(str(row[0]) for row in rows))


class AnswerLinks:
    """The prompt → answer links of one bot account."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @classmethod
    async def open(cls, db: Database) -> AnswerLinks:
        """Migrate the table in ``db`` (the ledger's database) and return the store."""
        await db.migrate(SCHEMA)
        return cls(db)

    async def save(self, room_id: str, prompt_event_id: str, sender: str,
                   answer_event_ids: Sequence[str]) -> None:
        """Record (or replace) the answer events of a prompt."""
        if not answer_event_ids:
            return
        now = int(time.time() * 1000)

        def txn_fn(txn: Txn) -> None:
            txn.execute("DELETE FROM ai_answer_links WHERE prompt_event_id = ?",
                        (prompt_event_id,))
            for position, answer_id in enumerate(answer_event_ids):
                txn.execute("DELETE FROM ai_answer_links WHERE answer_event_id = ?",
                            (answer_id,))
                txn.execute(
                    "INSERT INTO ai_answer_links (answer_event_id, prompt_event_id, room_id, "
                    "sender, position, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                    (answer_id, prompt_event_id, room_id, sender, position, now))

        await self._db.run(txn_fn)

    async def for_prompt(self, prompt_event_id: str) -> AnswerLink | None:
        """The answer of a prompt, if the bot answered it."""
        return await self._db.run(lambda txn: _load_txn(txn, prompt_event_id))

    async def for_answer(self, answer_event_id: str) -> AnswerLink | None:
        """The prompt (and whole answer) an answer event belongs to."""
        def txn_fn(txn: Txn) -> AnswerLink | None:
            row = txn.one("SELECT prompt_event_id FROM ai_answer_links "
                          "WHERE answer_event_id = ?", (answer_event_id,))
            return None if row is None else _load_txn(txn, str(row[0]))

        return await self._db.run(txn_fn)

    async def prune(self, older_than_s: float = RETENTION_S) -> int:
        """Forget links older than ``older_than_s``; how many rows went."""
        cutoff = int(time.time() * 1000) - int(older_than_s * 1000)
        return await self._db.run(lambda txn: txn.execute(
            "DELETE FROM ai_answer_links WHERE created_ms < ?", (cutoff,)))
