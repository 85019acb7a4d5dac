"""The bot process: sync loop, event dispatch, answers in flight, shutdown.

Sync runs in a loop that backs off on network errors and on homeserver refusals (Synapse
restarting, M_LIMIT_EXCEEDED) and never gives up. Event callbacks only decide and spawn
tasks; answers run concurrently and share the account's one edit scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from nio import (
    InviteMemberEvent,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RedactionEvent,
    RoomMessageText,
    SyncError,
    SyncResponse,
)
from nio.exceptions import EncryptionError, LocalProtocolError

from hearth.ai_bot import strings
from hearth.ai_bot.answer import Answerer, Counter, Job
from hearth.ai_bot.budget.types import Ledger
from hearth.ai_bot.commands import CommandEnv, effective_model, run_command
from hearth.ai_bot.config import BotConfig
from hearth.ai_bot.context.room_state import ACCOUNT_DATA_TYPE, RoomSettings
from hearth.ai_bot.links import AnswerLink, AnswerLinks
from hearth.ai_bot.llm.catalogue import Catalogue
from hearth.ai_bot.llm.types import ModelProvider
from hearth.ai_bot.matrix.client import MatrixClient
from hearth.ai_bot.permissions import AccessPolicy, RequestRate
from hearth.ai_bot.routing import (
    Command,
    Conversation,
    Incoming,
    Prompt,
    RoomFacts,
    in_reply_to,
    replaced_event,
    route,
    strip_mention,
    strip_reply_fallback,
    thread_root,
)
from hearth.ai_bot.streaming.scheduler import EditScheduler, Observer, Policy
from hearth.ai_bot.tools.builtins import builtin_registry

logger = logging.getLogger(__name__)

REGENERATE_KEYS = ("🔁", "🔄")
MAX_RECORDS = 2000  # answers kept in memory; older ones are looked up in the database
TYPING_REFRESH_S = 20.0


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


class Bot:
    """Everything the running bot holds."""

    def __init__(
        self, config: BotConfig, matrix: MatrixClient, *, password: str,
        provider: ModelProvider, catalogue: Catalogue, ledger: Ledger | None,
        policy: AccessPolicy, counter_for: Callable[[str], Counter],
        observer: Observer | None = None, links: AnswerLinks | None = None,
    ) -> None:
        self.config = config
        self.matrix = matrix
        self.nio = matrix.nio
        self.password = password
        self.catalogue = catalogue
        self.ledger = ledger
        self.policy = policy
        self.links = links
        self.rate = RequestRate()
        streaming = config.streaming
        self.scheduler = EditScheduler(matrix, Policy(
            min_interval_s=streaming.min_edit_interval_s,
            edits_per_second=streaming.max_edits_per_second,
            max_body_bytes=streaming.max_body_bytes,
            max_concurrent=streaming.max_concurrent_sends,
            final_retry_deadline_s=streaming.final_retry_deadline_s,
            msgtype=streaming.msgtype,
        ), observer=observer)
        self.answerer = Answerer(
            config, provider=provider, catalogue=catalogue, ledger=ledger,
            scheduler=self.scheduler, reader=matrix,
            tools=builtin_registry(config.tools.search_scan_events),
            bot_user_id=matrix.user_id, display_name=self.display_name,
            counter_for=counter_for,
        )
        self.by_prompt: dict[str, Record] = {}
        self.by_answer: dict[str, str] = {}  # answer event → prompt event
        self.bot_threads: set[str] = set()
        self.settings: dict[str, RoomSettings] = {}
        self.told_undecryptable: set[tuple[str, str]] = set()
        self.undecrypted: list[tuple[MatrixRoom, MegolmEvent]] = []
        self.handled_invites: set[str] = set()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.stopping = asyncio.Event()
        self.started_ms = int(time.time() * 1000)
        self.cross_signed = False
        self._register_callbacks()

    # -- helpers -------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("task failed", exc_info=task.exception())

    def display_name(self, room_id: str, user_id: str) -> str:
        room = self.nio.rooms.get(room_id)
        if room is not None and user_id in room.users:
            return str(room.users[user_id].display_name or user_id)
        return user_id

    def bot_names(self, room: MatrixRoom) -> tuple[str, ...]:
        localpart = self.matrix.user_id[1:].split(":", 1)[0]
        names = [localpart, self.config.displayname]
        me = room.users.get(self.matrix.user_id)
        if me is not None and me.display_name:
            names.append(me.display_name)
        return tuple(dict.fromkeys(n for n in names if n))

    def too_old(self, server_ts: int) -> bool:
        return server_ts < time.time() * 1000 - self.config.context.max_event_age_s * 1000

    async def room_settings(self, room_id: str) -> RoomSettings:
        if room_id not in self.settings:
            raw = await self.matrix.get_room_data(room_id, ACCOUNT_DATA_TYPE)
            self.settings[room_id] = RoomSettings.from_json(raw)
        return self.settings[room_id]

    async def save_settings(self, room_id: str, settings: RoomSettings) -> None:
        self.settings[room_id] = settings
        await self.matrix.put_room_data(room_id, ACCOUNT_DATA_TYPE, settings.to_json())

    def notify(self, room_id: str, relation: dict[str, Any] | None
               ) -> Callable[[str], Awaitable[Any]]:
        async def send(text: str) -> None:
            await self.matrix.send_notice(room_id, text, relation)
        return send

    @staticmethod
    def relation_for(conversation: Conversation, event_id: str) -> dict[str, Any]:
        if conversation.thread_root is not None:
            return {"rel_type": "m.thread", "event_id": conversation.thread_root,
                    "is_falling_back": True, "m.in_reply_to": {"event_id": event_id}}
        return {"m.in_reply_to": {"event_id": event_id}}

    # -- callbacks -----------------------------------------------------------------------

    def _register_callbacks(self) -> None:
        add = self.nio.add_event_callback
        add(self._cb(self.on_text), RoomMessageText)
        add(self._cb(self.on_undecryptable), MegolmEvent)
        add(self._cb(self.on_redaction), RedactionEvent)
        add(self._cb(self.on_reaction), ReactionEvent)
        add(self._cb(self.on_invite), InviteMemberEvent)  # type: ignore[arg-type]

    def _cb(self, handler: Callable[[MatrixRoom, Any], Coroutine[Any, Any, Any]]
            ) -> Callable[[MatrixRoom, Any], Awaitable[None]]:
        async def callback(room: MatrixRoom, event: Any) -> None:
            if self.stopping.is_set():
                return
            self.spawn(handler(room, event))
        return callback

    async def on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self.matrix.user_id or event.membership != "invite":
            return
        if room.room_id in self.handled_invites:
            return
        self.handled_invites.add(room.room_id)
        if (await self.policy.access(event.sender)).use_ai:
            logger.info("joining %s (invited by %s)", room.room_id, event.sender)
            for attempt in range(5):
                result = await self.nio.join(room.room_id)
                if hasattr(result, "room_id"):
                    return
                await asyncio.sleep(2 ** attempt)
            self.handled_invites.discard(room.room_id)
            return
        logger.info("declining invite to %s from %s", room.room_id, event.sender)
        with contextlib.suppress(Exception):
            await self.matrix.request(
                "POST", f"/_matrix/client/v3/rooms/{room.room_id}/leave",
                {"reason": strings.INVITE_REFUSED_REASON})

    async def on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
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
            replied_sender = (self.matrix.user_id if replied in self.by_answer
                              else await self._sender_of(room.room_id, replied))
        thread_with_bot = False
        root = (content.get("m.relates_to") or {}).get("event_id")
        if (content.get("m.relates_to") or {}).get("rel_type") == "m.thread" and root:
            thread_with_bot = root in self.bot_threads or (
                await self._sender_of(room.room_id, root) == self.matrix.user_id)
        facts = self._facts(room)
        decision = route(Incoming(event.event_id, event.sender, content, replied_sender,
                                  thread_with_bot), facts)
        if isinstance(decision, Command):
            await self.on_command(room, event, decision)
        elif isinstance(decision, Prompt):
            await self.start_answer(room, event.event_id, event.sender,
                                    event.server_timestamp, decision)

    async def _sender_of(self, room_id: str, event_id: str) -> str | None:
        if event_id in self.by_answer:
            return self.matrix.user_id
        try:
            event = await self.matrix.get_event(room_id, event_id)
        except Exception:
            return None
        return None if event is None else str(event.get("sender"))

    async def on_command(self, room: MatrixRoom, event: RoomMessageText,
                         command: Command) -> None:
        room_id = room.room_id
        relation = self.relation_for(command.conversation, event.event_id)
        access = await self.policy.access(event.sender)
        settings = await self.room_settings(room_id)
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
            await self.save_settings(room_id, result.settings)
        await self.matrix.read_receipt(room_id, event.event_id)
        await self.matrix.send_notice(room_id, result.reply, relation)

    async def start_answer(self, room: MatrixRoom, event_id: str, sender: str, ts: int,
                           prompt: Prompt) -> None:
        """Answer a new prompt (once: a prompt seen again, e.g. re-delivered, is skipped)."""
        if event_id in self.by_prompt:
            return
        record = self.by_prompt[event_id] = Record(event_id, sender, ts, prompt)
        self._forget_oldest()
        async with record.lock:
            notify = await self._prepare(room, record, prompt)
        if notify is not None:
            await self._answer(record, notify)

    async def _prepare(self, room: MatrixRoom, record: Record, prompt: Prompt
                       ) -> Callable[[str], Awaitable[Any]] | None:
        """Check the asker may have an answer now and make its job (with the record's lock
        held); returns how to send refusals, or None when refused (already said)."""
        room_id = room.room_id
        relation = self.relation_for(prompt.conversation, record.prompt_event_id)
        notify = self.notify(room_id, relation)
        sender = record.sender
        access = await self.policy.access(sender)
        if not access.use_ai:
            await notify(strings.NOT_ALLOWED)
            return None
        wait = self.rate.check(sender, access.rate)
        if wait > 0:
            await notify(strings.RATE_LIMITED.format(seconds=int(wait) + 1))
            return None
        settings = await self.room_settings(room_id)
        model = effective_model(access, settings, prompt.conversation,
                                self.config.model.default, self.catalogue.names())
        if model is None:
            await notify(strings.NOT_ALLOWED)
            return None
        existing = record.answer_ids()
        record.prompt = prompt
        record.job = Job(
            prompt_event_id=record.prompt_event_id, prompt_text=prompt.text,
            prompt_ts=record.prompt_ts, sender=sender, conversation=prompt.conversation,
            model=model, access=access, system_prompt=settings.system_prompt,
            reset_ts=settings.reset_ts(prompt.conversation), relation=relation,
            existing_event_id=existing[0] if existing else None,
        )
        record.task = asyncio.current_task()
        if prompt.conversation.thread_root:
            self.bot_threads.add(prompt.conversation.thread_root)
        await self.matrix.read_receipt(room_id, record.prompt_event_id)
        return notify

    async def _answer(self, record: Record, notify: Callable[[str], Awaitable[Any]]) -> None:
        job = record.job
        assert job is not None
        room_id = job.conversation.room_id
        typing = self.spawn(self._keep_typing(room_id))
        try:
            await self.answerer.run(job, notify)
        finally:
            typing.cancel()
            # The link first: a shutdown right after the final edit must not lose it.
            if job.live is not None and job.live.event_ids:
                await self._remember(record, job.live.event_ids)
            await self.matrix.typing(room_id, False)

    async def _remember(self, record: Record, event_ids: list[str]) -> None:
        """Link the answer's events to its prompt, in memory and in the database."""
        if event_ids == record.event_ids:
            return
        record.event_ids = list(event_ids)
        for answer_id in event_ids:
            self.by_answer[answer_id] = record.prompt_event_id
        if self.links is not None:
            try:
                await asyncio.shield(self.links.save(
                    record.prompt.conversation.room_id, record.prompt_event_id,
                    record.sender, event_ids))
            except Exception:
                logger.exception("could not store the prompt → answer link")

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

    # -- edits, redactions and 🔁 of prompts and answers ----------------------------------

    async def _record_for_prompt(self, room: MatrixRoom, prompt_event_id: str
                                 ) -> Record | None:
        record = self.by_prompt.get(prompt_event_id)
        if record is not None or self.links is None:
            return record
        return await self._restore(room, await self.links.for_prompt(prompt_event_id))

    async def _record_for_answer(self, room: MatrixRoom, answer_event_id: str
                                 ) -> Record | None:
        prompt_id = self.by_answer.get(answer_event_id)
        if prompt_id is not None:
            return self.by_prompt.get(prompt_id)
        for record in self.by_prompt.values():  # an answer whose first event just went out
            if answer_event_id in record.answer_ids():
                return record
        if self.links is None:
            return None
        return await self._restore(room, await self.links.for_answer(answer_event_id))

    async def _restore(self, room: MatrixRoom, link: AnswerLink | None) -> Record | None:
        """A record from a stored link (an answer given before the bot restarted): the prompt
        is read back from the room, its latest edit applied."""
        if link is None or link.room_id != room.room_id:
            return None
        try:
            raw = await self.matrix.get_event(room.room_id, link.prompt_event_id)
        except Exception as exc:
            logger.warning("cannot read prompt %s: %s", link.prompt_event_id, exc)
            return None
        content = (raw or {}).get("content") or {}
        if raw is None or not content or "redacted_because" in (raw.get("unsigned") or {}):
            return None
        shown = content
        bundled = ((raw.get("unsigned") or {}).get("m.relations") or {}).get("m.replace")
        if isinstance(bundled, dict) and bundled.get("sender") == link.sender:
            edit = self.matrix.decrypt(bundled, room.room_id)
            new_content = (edit.get("content") or {}).get("m.new_content")
            if isinstance(new_content, dict):
                shown = new_content
        text = strip_mention(strip_reply_fallback(str(shown.get("body", ""))),
                             self._facts(room))
        conversation = Conversation(room.room_id, thread_root(content))
        record = Record(link.prompt_event_id, link.sender,
                        int(raw.get("origin_server_ts", 0)), Prompt(text, conversation),
                        event_ids=list(link.answer_event_ids))
        found = self.by_prompt.setdefault(link.prompt_event_id, record)
        self._forget_oldest()
        for answer_id in found.event_ids:
            self.by_answer[answer_id] = link.prompt_event_id
        return found

    def _forget_oldest(self) -> None:
        """Keep at most MAX_RECORDS answers in memory (the oldest idle ones go; the database
        still links them, so an edit or 🔁 brings them back)."""
        excess = len(self.by_prompt) - MAX_RECORDS
        if excess <= 0 or self.links is None:
            return
        for prompt_id in [p for p, r in self.by_prompt.items() if not r.running()][:excess]:
            for answer_id in self.by_prompt.pop(prompt_id).event_ids:
                self.by_answer.pop(answer_id, None)

    def _facts(self, room: MatrixRoom) -> RoomFacts:
        return RoomFacts(room.room_id, is_direct=len(room.users) <= 2,
                         bot_user_id=self.matrix.user_id, bot_names=self.bot_names(room))

    async def on_prompt_edit(self, room: MatrixRoom, event: RoomMessageText, target: str,
                             content: dict[str, Any]) -> None:
        """Editing a prompt regenerates its answer in place (the answer's event is edited)."""
        record = await self._record_for_prompt(room, target)
        if record is None or record.sender != event.sender:
            return
        new_content = content.get("m.new_content") or {}
        text = strip_mention(strip_reply_fallback(str(new_content.get("body", ""))),
                             self._facts(room))
        if not text:
            return
        await self._regenerate(room, record, Prompt(text, record.prompt.conversation),
                               strings.REASON_EDITED)

    async def _regenerate(self, room: MatrixRoom, record: Record, prompt: Prompt,
                          reason: str) -> None:
        """Cancel the answer in flight, if any, and answer ``prompt`` into the same event."""
        async with record.lock:
            await self._cancel(record, reason)
            if record.job is not None and record.job.live is not None:
                await self._remember(record, record.job.live.event_ids)
            notify = await self._prepare(room, record, prompt)
        if notify is not None:
            await self._answer(record, notify)

    async def on_redaction(self, room: MatrixRoom, event: RedactionEvent) -> None:
        """Redacting a prompt cancels its answer."""
        record = self.by_prompt.get(event.redacts)
        if record is not None:
            await self._cancel(record, strings.REASON_CANCELLED)

    async def on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        """A 🔁 on an answer regenerates it."""
        if event.key not in REGENERATE_KEYS or event.sender == self.matrix.user_id:
            return
        if self.too_old(event.server_timestamp):
            return
        record = await self._record_for_answer(room, event.reacts_to)
        if record is None or not (await self.policy.access(event.sender)).use_ai:
            return
        await self._regenerate(room, record, record.prompt, strings.REASON_REGENERATED)

    async def on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        """Ask for the key, tell the sender once, keep the event to retry; never leave."""
        if event.sender == self.matrix.user_id or self.too_old(event.server_timestamp):
            return
        with contextlib.suppress(LocalProtocolError):
            await self.nio.request_room_key(event)
        self.undecrypted.append((room, event))
        key = (room.room_id, str(event.session_id))
        if key not in self.told_undecryptable:
            self.told_undecryptable.add(key)
            await self.matrix.send_notice(room.room_id, strings.CANNOT_DECRYPT,
                                          {"m.in_reply_to": {"event_id": event.event_id}})

    async def retry_undecrypted(self) -> None:
        """Events whose keys arrived since are handled as if they came now."""
        waiting, self.undecrypted = self.undecrypted, []
        for room, event in waiting:
            try:
                decrypted = self.nio.decrypt_event(event)
            except (EncryptionError, LocalProtocolError):
                if not self.too_old(event.server_timestamp):
                    self.undecrypted.append((room, event))
                continue
            if isinstance(decrypted, RoomMessageText):
                self.spawn(self.on_text(room, decrypted))

    # -- sync ----------------------------------------------------------------------------

    async def after_sync(self) -> None:
        nio = self.nio
        if nio.should_upload_keys:
            await nio.keys_upload()
        if nio.should_query_keys:
            await nio.keys_query()
        if nio.should_claim_keys:
            await nio.keys_claim(nio.get_users_for_key_claiming())
        await nio.send_to_device_messages()
        if self.undecrypted:
            await self.retry_undecrypted()
        if not self.cross_signed and self.config.encryption and nio.olm is not None:
            from hearth.ai_bot.matrix.crosssign import cross_sign_own_device

            try:
                await cross_sign_own_device(self.matrix, self.config.data_dir, self.password)
                self.cross_signed = True
            except Exception as exc:
                logger.warning("cross-signing not done yet: %s", exc)

    async def sync_forever(self) -> None:
        """Sync until stopped; back off (up to 30 s) while the homeserver is unreachable."""
        delay = 1.0
        first = True
        while not self.stopping.is_set():
            try:
                response = await self.nio.sync(timeout=0 if first else 30_000,
                                               full_state=first or None)
                if isinstance(response, SyncError):
                    raise RuntimeError(f"sync refused: {response.status_code} {response.message}")
                assert isinstance(response, SyncResponse)
                await self.after_sync()
                first = False
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("sync failed (%s: %s); retrying in %.0fs",
                               type(exc).__name__, exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), timeout=delay)
                delay = min(delay * 2, 30.0)

    async def run(self) -> None:
        """Run until ``stop()``; then finish or mark the answers in flight."""
        scheduler_task = asyncio.get_running_loop().create_task(self.scheduler.run())
        sync_task = asyncio.get_running_loop().create_task(self.sync_forever())
        logger.info("bot %s running (device %s)", self.matrix.user_id, self.nio.device_id)
        print(f"ai bot ready: {self.matrix.user_id}", flush=True)
        await self.stopping.wait()
        sync_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sync_task
        await self.shutdown()
        scheduler_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await scheduler_task

    async def shutdown(self, timeout_s: float = 15.0) -> None:
        """Cancel the answers in flight: each ends with a visible marker (final edit)."""
        running = [r for r in self.by_prompt.values() if r.running()]
        tasks = [r.task for r in running if r.task is not None]
        for record in running:
            if record.job is not None:
                record.job.cancel_reason = strings.REASON_SHUTDOWN
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)
        await self.scheduler.shutdown(strings.REASON_SHUTDOWN, timeout_s)

    def stop(self) -> None:
        self.stopping.set()
