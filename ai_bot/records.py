"""The prompts the bot answered, and the events of each answer.

Edits, redactions and 🔁 reactions name an event; these records say which answer (and which
answer in flight) that event belongs to. Memory holds at most ``max_records`` of them; the
prompt → answer links in the database (``AnswerLinks``) bring older ones back, including
those of answers given before the bot restarted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hearth.ai_bot.answer import Job
from hearth.ai_bot.links import AnswerLink
from hearth.ai_bot.matrix.protocols import EventSource
from hearth.ai_bot.routing import Conversation, Prompt, RoomFacts, prompt_text, thread_root

logger = logging.getLogger(__name__)

MAX_RECORDS = 2000  # answers kept in memory; older ones are looked up in the database


@dataclass
class Record:
    """A prompt the bot answered (or is answering), and the events of that answer.

    One record per prompt: a regeneration replaces ``job`` and ``task`` but keeps the answer's
    events, so edits, 🔁 and redactions always reach the answer that is current.
    """

    prompt_event_id: str
    sender: str
    prompt_ts: int
    prompt: Prompt
    event_ids: list[str] = field(default_factory=list)
    job: Job | None = None
    task: asyncio.Task[Any] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def answer_ids(self) -> list[str]:
        """The answer's events, including those of the answer in flight."""
        live = self.job.live if self.job is not None else None
        found = list(live.event_ids) if live is not None else []
        return found or list(self.event_ids)

    def running(self) -> bool:
        """An answer is in flight or being (re)started."""
        return self.lock.locked() or (self.task is not None and not self.task.done())


class LinkStore(Protocol):
    """Where prompt → answer links outlive the process (``AnswerLinks``)."""

    async def save(self, room_id: str, prompt_event_id: str, sender: str,
                   answer_event_ids: Sequence[str]) -> None: ...

    async def for_prompt(self, prompt_event_id: str) -> AnswerLink | None: ...

    async def for_answer(self, answer_event_id: str) -> AnswerLink | None: ...


class Records:
    """Records by prompt and by answer event, bounded, restored from the links on demand."""

    def __init__(self, events: EventSource, links: LinkStore | None,
                 max_records: int = MAX_RECORDS) -> None:
        self.events = events
        self.links = links
        self.max_records = max_records
        self._by_prompt: dict[str, Record] = {}
        self._by_answer: dict[str, str] = {}  # answer event → prompt event

    def start(self, prompt_event_id: str, sender: str, ts: int, prompt: Prompt
              ) -> Record | None:
        """A new record for a prompt; None if the prompt has one (e.g. it was re-delivered)."""
        if prompt_event_id in self._by_prompt:
            return None
        record = self._by_prompt[prompt_event_id] = Record(prompt_event_id, sender, ts, prompt)
        self._forget_oldest()
        return record

    def in_memory(self, prompt_event_id: str) -> Record | None:
        return self._by_prompt.get(prompt_event_id)

    def is_answer(self, event_id: str) -> bool:
        """Whether ``event_id`` is known to be one of the bot's answers."""
        return event_id in self._by_answer

    def running(self) -> list[Record]:
        return [r for r in self._by_prompt.values() if r.running()]

    async def remember(self, record: Record, event_ids: list[str]) -> None:
        """Link the answer's events to its prompt, in memory and in the database."""
        if event_ids == record.event_ids:
            return
        record.event_ids = list(event_ids)
        for answer_id in event_ids:
            self._by_answer[answer_id] = record.prompt_event_id
        if self.links is not None:
            try:
                await asyncio.shield(self.links.save(
                    record.prompt.conversation.room_id, record.prompt_event_id,
                    record.sender, event_ids))
            except Exception:
                logger.exception("could not store the prompt → answer link")

    async def for_prompt(self, facts: RoomFacts, prompt_event_id: str) -> Record | None:
        record = self._by_prompt.get(prompt_event_id)
        if record is not None or self.links is None:
            return record
        return await self._restore(facts, await self.links.for_prompt(prompt_event_id))

    async def for_answer(self, facts: RoomFacts, answer_event_id: str) -> Record | None:
        prompt_id = self._by_answer.get(answer_event_id)
        if prompt_id is not None:
            return self._by_prompt.get(prompt_id)
        for record in self._by_prompt.values():  # an answer whose first event just went out
            if answer_event_id in record.answer_ids():
                return record
        if self.links is None:
            return None
        return await self._restore(facts, await self.links.for_answer(answer_event_id))

    async def _restore(self, facts: RoomFacts, link: AnswerLink | None) -> Record | None:
        """A record from a stored link (an answer given before the bot restarted): the prompt
        is read back from the room, its latest edit applied."""
        room_id = facts.room_id
        if link is None or link.room_id != room_id:
            return None
        try:
            raw = await self.events.get_event(room_id, link.prompt_event_id)
        except Exception as exc:
            logger.warning("cannot read prompt %s: %s", link.prompt_event_id, exc)
            return None
        content = (raw or {}).get("content") or {}
        if raw is None or not content or "redacted_because" in (raw.get("unsigned") or {}):
            return None
        shown = content
        bundled = ((raw.get("unsigned") or {}).get("m.relations") or {}).get("m.replace")
        if isinstance(bundled, dict) and bundled.get("sender") == link.sender:
            edit = self.events.decrypt(bundled, room_id)
            new_content = (edit.get("content") or {}).get("m.new_content")
            if isinstance(new_content, dict):
                shown = new_content
        prompt = Prompt(prompt_text(str(shown.get("body", "")), facts),
                        Conversation(room_id, thread_root(content)))
        record = Record(link.prompt_event_id, link.sender, int(raw.get("origin_server_ts", 0)),
                        prompt, event_ids=list(link.answer_event_ids))
        found = self._by_prompt.setdefault(link.prompt_event_id, record)
        self._forget_oldest()
        for answer_id in found.event_ids:
            self._by_answer[answer_id] = link.prompt_event_id
        return found

    def _forget_oldest(self) -> None:
        """Keep at most ``max_records`` answers in memory (the oldest idle ones go; the
        database still links them, so an edit or 🔁 brings them back)."""
        excess = len(self._by_prompt) - self.max_records
        if excess <= 0 or self.links is None:
            return
        for prompt_id in [p for p, r in self._by_prompt.items() if not r.running()][:excess]:
            for answer_id in self._by_prompt.pop(prompt_id).event_ids:
                self._by_answer.pop(answer_id, None)
