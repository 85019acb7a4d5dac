"""What the bot does about each message, edit, redaction and 🔁 it receives.

Routing (``routing.route``) decides whether a message is a prompt or a command; this module
carries that out: it checks the asker's access, rate and model, starts the answer (typing
notice, read receipt, the answer streamed as a reply), and turns later changes into actions:
an edited prompt regenerates its answer in place, a redacted prompt cancels its answer, a 🔁
on an answer regenerates it, shutdown ends every answer in flight with a visible marker.

Every request is checked against the asker's role as the access policy says it now; when the
role cannot be learnt the request is refused with a notice (fail closed). A 🔁 is a request of
whoever reacted: it is checked against the reactor's role, rate and budget and charged to the
reactor, so another member can never spend the original asker's allowance.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from nio import MatrixRoom, ReactionEvent, RedactionEvent, RoomMessageText

from hearth.ai_bot import strings
from hearth.ai_bot.answer import Answerer, Job
from hearth.ai_bot.budget.types import Ledger
from hearth.ai_bot.commands import CommandEnv, effective_model, run_command
from hearth.ai_bot.config import BotConfig
from hearth.ai_bot.llm.catalogue import Catalogue
from hearth.ai_bot.matrix.protocols import BotMatrix
from hearth.ai_bot.metrics import ACCESS_REFUSALS
from hearth.ai_bot.permissions import AccessPolicy, AiAccess, RequestRate, RoleUnknown
from hearth.ai_bot.records import Record, Records
from hearth.ai_bot.room_settings import RoomSettingsCache
from hearth.ai_bot.routing import (
    Command,
    Conversation,
    Incoming,
    Prompt,
    RoomFacts,
    in_reply_to,
    prompt_text,
    replaced_event,
    route,
    thread_root,
    too_old,
)
from hearth.ai_bot.tasks import Tasks, cancel_and_wait

REGENERATE_KEYS = ("🔁", "🔄")
TYPING_REFRESH_S = 20.0

Notify = Callable[[str], Awaitable[Any]]


@dataclass(frozen=True)
class Request:
    """Who asks for an answer to someone else's prompt (a 🔁), already allowed the AI, and
    where their refusals go."""

    user_id: str
    access: AiAccess
    notify: Notify


def relation_for(conversation: Conversation, event_id: str) -> dict[str, Any]:
    """How the bot's answer or notice relates to ``event_id``: a reply, in its thread if any."""
    if conversation.thread_root is not None:
        return {"rel_type": "m.thread", "event_id": conversation.thread_root,
                "is_falling_back": True, "m.in_reply_to": {"event_id": event_id}}
    return {"m.in_reply_to": {"event_id": event_id}}


@dataclass
class Dispatcher:
    """Turns routed events into answers, command replies, regenerations and cancellations."""

    config: BotConfig
    matrix: BotMatrix
    _: KW_ONLY
    answerer: Answerer
    records: Records
    settings: RoomSettingsCache
    policy: AccessPolicy
    catalogue: Catalogue
    ledger: Ledger | None
    tasks: Tasks
    rate: RequestRate = field(default_factory=RequestRate, init=False)
    bot_threads: set[str] = field(default_factory=set, init=False)  # threads it answered in

    # -- facts about rooms and events ----------------------------------------------------

    def facts(self, room: MatrixRoom) -> RoomFacts:
        user_id = self.matrix.user_id
        localpart = user_id[1:].split(":", 1)[0]
        names = [localpart, self.config.displayname]
        me = room.users.get(user_id)
        if me is not None and me.display_name:
            names.append(me.display_name)
        return RoomFacts(room.room_id, is_direct=len(room.users) <= 2, bot_user_id=user_id,
                         bot_names=tuple(dict.fromkeys(n for n in names if n)))

    def too_old(self, server_ts: int) -> bool:
        return too_old(server_ts, self.config.context.max_event_age_s, time.time() * 1000)

    async def _sender_of(self, room_id: str, event_id: str) -> str | None:
        if self.records.is_answer(event_id):
            return self.matrix.user_id
        try:
            event = await self.matrix.get_event(room_id, event_id)
        except Exception:
            return None
        return None if event is None else str(event.get("sender"))

    def _notify(self, room_id: str, relation: dict[str, Any] | None) -> Notify:
        async def send(text: str) -> None:
            await self.matrix.send_notice(room_id, text, relation)
        return send

    # -- messages ------------------------------------------------------------------------

    async def on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        """A message: an edit of a prompt, a command, a prompt, or nothing for the bot."""
        if event.sender == self.matrix.user_id or self.too_old(event.server_timestamp):
            return
        content: dict[str, Any] = event.source.get("content", {})
        target = replaced_event(content)
        if target is not None:
            await self.on_prompt_edit(room, event, target, content)
            return
        replied = in_reply_to(content)
        replied_sender = None
        if replied is not None:
            replied_sender = await self._sender_of(room.room_id, replied)
        root = thread_root(content)
        thread_with_bot = False
        if root:
            thread_with_bot = root in self.bot_threads or (
                await self._sender_of(room.room_id, root) == self.matrix.user_id)
        decision = route(Incoming(event.event_id, event.sender, content, replied_sender,
                                  thread_with_bot), self.facts(room))
        if isinstance(decision, Command):
            await self.on_command(room, event, decision)
        elif isinstance(decision, Prompt):
            await self.start_answer(room, event.event_id, event.sender,
                                    event.server_timestamp, decision)

    async def _access(self, user_id: str, notify: Notify) -> AiAccess | None:
        """The user's AI permissions, or None when the policy cannot say (refusal sent)."""
        try:
            return await self.policy.access(user_id)
        except RoleUnknown:
            ACCESS_REFUSALS.labels("role_unknown").inc()
            await notify(strings.ROLE_UNKNOWN)
            return None

    async def _ai_access(self, user_id: str, notify: Notify) -> AiAccess | None:
        """``_access``, also refusing (with a notice) a role without the AI."""
        access = await self._access(user_id, notify)
        if access is not None and not access.use_ai:
            ACCESS_REFUSALS.labels("no_ai").inc()
            await notify(strings.NOT_ALLOWED)
            return None
        return access

    async def on_command(self, room: MatrixRoom, event: RoomMessageText,
                         command: Command) -> None:
        room_id = room.room_id
        relation = relation_for(command.conversation, event.event_id)
        access = await self._access(event.sender, self._notify(room_id, relation))
        if access is None:
            return
        settings = await self.settings.get(room_id)
        level, needed = await self.matrix.power_level(room_id, event.sender)
        usage = None
        if command.name == "usage" and self.ledger is not None and access.use_ai:
            usage = await self.ledger.summary(event.sender, room_id)
        result = run_command(command, CommandEnv(
            sender=event.sender, conversation=command.conversation,
            event_ts=event.server_timestamp, access=access, catalogue=self.catalogue.names(),
            default_model=self.config.model.default, settings=settings,
            is_moderator=level >= needed, usage=usage,
        ))
        if result.settings is not None:
            await self.settings.save(room_id, result.settings)
        await self.matrix.read_receipt(room_id, event.event_id)
        await self.matrix.send_notice(room_id, result.reply, relation)

    # -- answers -------------------------------------------------------------------------

    async def start_answer(self, room: MatrixRoom, event_id: str, sender: str, ts: int,
                           prompt: Prompt) -> None:
        """Answer a new prompt (once: a prompt seen again, e.g. re-delivered, is skipped)."""
        record = self.records.start(event_id, sender, ts, prompt)
        if record is None:
            return
        async with record.lock:
            notify = await self._prepare(room, record, prompt)
        if notify is not None:
            await self._answer(record, notify)

    async def _prepare(self, room: MatrixRoom, record: Record, prompt: Prompt,
                       request: Request | None = None) -> Notify | None:
        """Check the requester (the asker, or who asked again) may have an answer now and make
        its job (with the record's lock held); returns how to send refusals, or None when
        refused (already said)."""
        room_id = room.room_id
        relation = relation_for(prompt.conversation, record.prompt_event_id)
        notify = request.notify if request else self._notify(room_id, relation)
        requester = request.user_id if request else record.sender
        access = request.access if request else await self._ai_access(requester, notify)
        if access is None:
            return None
        wait = self.rate.check(requester, access.rate)
        if wait > 0:
            ACCESS_REFUSALS.labels("rate_limited").inc()
            await notify(strings.RATE_LIMITED.format(seconds=int(wait) + 1))
            return None
        settings = await self.settings.get(room_id)
        model = effective_model(access, settings, prompt.conversation,
                                self.config.model.default, self.catalogue.names())
        if model is None:
            ACCESS_REFUSALS.labels("no_model").inc()
            await notify(strings.NOT_ALLOWED)
            return None
        existing = record.answer_ids()
        record.prompt = prompt
        record.job = Job(
            prompt_event_id=record.prompt_event_id, prompt_text=prompt.text,
            prompt_ts=record.prompt_ts, sender=record.sender, requester=requester,
            conversation=prompt.conversation,
            model=model, access=access, system_prompt=settings.system_prompt,
            reset_ts=settings.reset_ts(prompt.conversation), relation=relation,
            existing_event_id=existing[0] if existing else None,
        )
        record.task = asyncio.current_task()
        if prompt.conversation.thread_root:
            self.bot_threads.add(prompt.conversation.thread_root)
        await self.matrix.read_receipt(room_id, record.prompt_event_id)
        return notify

    async def _answer(self, record: Record, notify: Notify) -> None:
        job = record.job
        assert job is not None
        room_id = job.conversation.room_id
        typing = self.tasks.spawn(self._keep_typing(room_id))
        try:
            await self.answerer.run(job, notify)
        finally:
            typing.cancel()
            # The link first: a shutdown right after the final edit must not lose it.
            if job.live is not None and job.live.event_ids:
                await self.records.remember(record, job.live.event_ids)
            await self.matrix.typing(room_id, False)

    async def _keep_typing(self, room_id: str) -> None:
        while True:
            await self.matrix.typing(room_id, True)
            await asyncio.sleep(TYPING_REFRESH_S)

    async def _cancel(self, record: Record, reason: str) -> None:
        """End the answer in flight (its final edit says why) and wait until it has ended."""
        task = record.task
        if task is None or task.done() or task is asyncio.current_task():
            return
        if record.job is not None:
            record.job.cancel_reason = reason
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def _regenerate(self, room: MatrixRoom, record: Record, prompt: Prompt,
                          reason: str, request: Request | None = None) -> None:
        """Cancel the answer in flight, if any, and answer ``prompt`` into the same event
        (for ``request``'s user when given, else for the asker)."""
        async with record.lock:
            await self._cancel(record, reason)
            if record.job is not None and record.job.live is not None:
                await self.records.remember(record, record.job.live.event_ids)
            notify = await self._prepare(room, record, prompt, request)
        if notify is not None:
            await self._answer(record, notify)

    # -- edits, redactions and 🔁 of prompts and answers ----------------------------------

    async def on_prompt_edit(self, room: MatrixRoom, event: RoomMessageText, target: str,
                             content: dict[str, Any]) -> None:
        """Editing a prompt regenerates its answer in place (the answer's event is edited)."""
        facts = self.facts(room)
        record = await self.records.for_prompt(facts, target)
        if record is None or record.sender != event.sender:
            return
        new_content = content.get("m.new_content") or {}
        text = prompt_text(str(new_content.get("body", "")), facts)
        if not text:
            return
        await self._regenerate(room, record, Prompt(text, record.prompt.conversation),
                               strings.REASON_EDITED)

    async def on_redaction(self, room: MatrixRoom, event: RedactionEvent) -> None:
        """Redacting a prompt cancels its answer."""
        record = self.records.in_memory(event.redacts)
        if record is not None:
            await self._cancel(record, strings.REASON_CANCELLED)

    async def on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        """A 🔁 on an answer regenerates it, as a request of the reactor (checked and charged
        as theirs); a refusal replies to the answer, which is left as it is."""
        if event.key not in REGENERATE_KEYS or event.sender == self.matrix.user_id:
            return
        if self.too_old(event.server_timestamp):
            return
        record = await self.records.for_answer(self.facts(room), event.reacts_to)
        if record is None:
            return
        notify = self._notify(room.room_id,
                              relation_for(record.prompt.conversation, event.reacts_to))
        access = await self._ai_access(event.sender, notify)
        if access is None:
            return
        await self._regenerate(room, record, record.prompt, strings.REASON_REGENERATED,
                               Request(event.sender, access, notify))

    # -- shutdown ------------------------------------------------------------------------

    async def stop_answers(self, timeout_s: float) -> None:
        """Cancel the answers in flight, each ending with the shutdown marker as its final
        edit; wait up to ``timeout_s`` for them."""
        running = self.records.running()
        for record in running:
            if record.job is not None:
                record.job.cancel_reason = strings.REASON_SHUTDOWN
        await cancel_and_wait([r.task for r in running if r.task is not None], timeout_s)
