"""One edit scheduler for the whole bot account.

Live answers register with the scheduler and only change their text; the scheduler decides
when a Matrix event goes out:

- the first event of an answer goes out as soon as it has text (edits do not notify, so the
  first event must come early);
- pending text is coalesced per answer: an answer is edited at most every ``interval`` seconds,
  where the interval grows with the number of live answers (a global budget of edits per
  second, as a token bucket) and after rate limiting;
- a 429 ``M_LIMIT_EXCEEDED`` pauses *every* send for ``retry_after_ms``;
- the final edit (no MSC4357 live marker, full Markdown as sanitised HTML) is always sent,
  retried through outages until ``final_retry_deadline_s``;
- text beyond ``max_body_bytes`` is sealed into its event and continues in a follow-up message.

The decision step (``tick``) is separate from the loop that waits (``run``), so tests drive it
with a fake clock and a fake sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from hearth.ai_bot import strings
from hearth.ai_bot.config import StreamingConfig
from hearth.ai_bot.matrix.errors import RateLimited, SendFailed
from hearth.ai_bot.matrix.protocols import Sender
from hearth.ai_bot.streaming.content import (
    edit_content,
    fit_content,
    message_content,
    split_for_size,
)

logger = logging.getLogger(__name__)

SendKind = Literal["first", "edit", "final"]


class Observer(Protocol):
    """Metrics hooks (time to first visible event, edits sent and coalesced)."""

    def first_visible(self, seconds: float) -> None: ...

    def sent(self, kind: SendKind) -> None: ...

    def coalesced(self, updates: int) -> None: ...

    def rate_limited(self) -> None: ...


class NullObserver:
    def first_visible(self, seconds: float) -> None:
        pass

    def sent(self, kind: SendKind) -> None:
        pass

    def coalesced(self, updates: int) -> None:
        pass

    def rate_limited(self) -> None:
        pass


@dataclass
class Segment:
    """One Matrix event of an answer (long answers have several)."""

    text: str = ""
    event_id: str | None = None
    sent: str | None = None  # the visible text last delivered
    sealed: bool = False  # no more text: needs its final edit
    final_sent: bool = False


_answer_ids = itertools.count(1)


@dataclass(eq=False)
class LiveAnswer:
    """The text of one answer in progress; the scheduler turns it into events."""

    scheduler: EditScheduler
    room_id: str
    relation: dict[str, Any] | None
    started_at: float
    segments: list[Segment] = field(default_factory=list)
    status: str = ""
    finished: bool = False
    failed: str | None = None
    updates: int = 0
    last_sent_at: float = 0.0
    retry_at: float = 0.0
    failures: int = 0
    in_flight: bool = False
    first_visible: bool = False
    ident: int = field(default_factory=lambda: next(_answer_ids))
    done: asyncio.Event = field(default_factory=asyncio.Event)
    txn_seq: int = 0

    @property
    def text(self) -> str:
        """The whole answer so far (all segments)."""
        return "".join(s.text for s in self.segments)

    @property
    def event_ids(self) -> list[str]:
        return [s.event_id for s in self.segments if s.event_id]

    def append(self, text: str) -> None:
        """More answer text; overflow moves into a new segment (a follow-up message)."""
        if self.finished or not text:
            return
        current = self.segments[-1]
        current.text += text
        self.updates += 1
        limit = self.scheduler.cadence.max_body_bytes
        while len(current.text.encode("utf-8")) > limit:
            head, tail = split_for_size(current.text, limit)
            current.text, current.sealed = head, True
            current = Segment(text=strings.CONTINUED + tail)
            self.segments.append(current)
        self.scheduler.wake()

    def set_status(self, status: str) -> None:
        """A transient line shown under live text (e.g. a tool running); never in the final."""
        if status != self.status:
            self.status = status
            self.updates += 1
            self.scheduler.wake()

    def replace_text(self, text: str) -> None:
        """Start over with ``text`` (used when regenerating into the same event)."""
        first = self.segments[0]
        first.text, first.sealed, first.final_sent = "", False, False
        del self.segments[1:]
        self.append(text)

    async def finish(self, suffix: str = "") -> bool:
        """Mark the answer complete (``suffix`` e.g. an interruption marker) and wait until its
        final edit is delivered; False if it could not be."""
        if not self.finished:
            if suffix:
                self.segments[-1].text += suffix
            if not self.text.strip():
                self.segments[-1].text = "…"
            self.finished = True
            self.status = ""
            self.scheduler.wake()
        await self.done.wait()
        return self.failed is None

    def visible(self, segment: Segment) -> str:
        last = segment is self.segments[-1]
        if last and self.status and not self.finished:
            return segment.text + self.status
        return segment.text

    def next_txn(self) -> str:
        self.txn_seq += 1
        return f"hearth-ai-{self.scheduler.instance}-{self.ident}-{self.txn_seq}"


@dataclass(frozen=True)
class _Action:
    answer: LiveAnswer
    segment: Segment
    kind: SendKind
    priority: bool


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()


class Clock(Protocol):
    def now(self) -> float: ...


class EditScheduler:
    """Coalesces the edits of every live answer of one bot account."""

    def __init__(
        self, sender: Sender, cadence: StreamingConfig | None = None, *,
        clock: Clock | None = None, observer: Observer | None = None, instance: str | None = None,
    ) -> None:
        self.sender = sender
        self.cadence = StreamingConfig() if cadence is None else cadence
        self.clock = clock or MonotonicClock()
        self.observer: Observer = observer or NullObserver()
        self.instance = instance or f"{int(time.time() * 1000):x}"
        self.answers: list[LiveAnswer] = []
        self.paused_until = 0.0
        self.backoff = 1.0
        self.tokens = self.cadence.max_edits_per_second
        self._refilled_at = self.clock.now()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- registration --------------------------------------------------------------------

    def open(
        self, room_id: str, relation: dict[str, Any] | None = None,
        existing_event_id: str | None = None,
    ) -> LiveAnswer:
        """Register a new live answer (``existing_event_id``: regenerate into that event)."""
        answer = LiveAnswer(self, room_id, relation, self.clock.now())
        answer.segments.append(Segment(event_id=existing_event_id))
        self.answers.append(answer)
        return answer

    def wake(self) -> None:
        self._wake.set()

    # -- decisions -----------------------------------------------------------------------

    def interval(self) -> float:
        """Seconds between two edits of one answer, given how many answers share the budget."""
        live = sum(1 for a in self.answers if not a.finished) or 1
        cadence = self.cadence
        return max(cadence.min_edit_interval_s, live / cadence.max_edits_per_second) * self.backoff

    def _refill(self, now: float) -> None:
        rate = self.cadence.max_edits_per_second
        self.tokens = min(rate, self.tokens + (now - self._refilled_at) * rate)
        self._refilled_at = now

    def _action(self, answer: LiveAnswer, now: float) -> _Action | None:
        if answer.in_flight or now < answer.retry_at:
            return None
        for segment in answer.segments:
            complete = segment.sealed or (answer.finished and segment is answer.segments[-1])
            if segment.event_id is None:
                if not answer.visible(segment).strip():
                    return None
                return _Action(answer, segment, "first", True)
            if complete and not segment.final_sent:
                return _Action(answer, segment, "final", True)
        last = answer.segments[-1]
        if answer.finished or answer.visible(last) == last.sent:
            return None
        if not answer.visible(last).strip():
            return None  # regenerating: the old answer stays until there is new text
        if now - answer.last_sent_at < self.interval():
            return None
        return _Action(answer, last, "edit", False)

    def take_due(self) -> list[_Action]:
        """What may be sent now (priority sends first, then edits, oldest first); the sends
        chosen use up their tokens of the edit budget."""
        now = self.clock.now()
        if now < self.paused_until:
            return []
        self._refill(now)
        actions = [a for a in (self._action(x, now) for x in self.answers) if a is not None]
        actions.sort(key=lambda a: (not a.priority, a.answer.last_sent_at))
        room = self.cadence.max_concurrent_sends - sum(1 for a in self.answers if a.in_flight)
        chosen: list[_Action] = []
        for action in actions:
            if len(chosen) >= room:
                break
            if not action.priority and self.tokens < 1:
                continue
            self.tokens = max(self.tokens - 1, -self.cadence.max_edits_per_second)
            chosen.append(action)
        return chosen

    def next_wake(self) -> float | None:
        """When something may next become due without a new event (None: only on wake())."""
        now = self.clock.now()
        times = []
        if self.paused_until > now:
            return self.paused_until
        for answer in self.answers:
            if answer.in_flight:
                continue
            if answer.retry_at > now:
                times.append(answer.retry_at)
            last = answer.segments[-1]
            shown = answer.visible(last)
            if not answer.finished and last.event_id and shown.strip() and shown != last.sent:
                times.append(max(answer.last_sent_at + self.interval(),
                                 now + (1 - self.tokens) / self.cadence.max_edits_per_second))
        return min(times) if times else None

    # -- sending -------------------------------------------------------------------------

    def _content(self, action: _Action) -> dict[str, Any]:
        answer, segment = action.answer, action.segment
        text = segment.text if action.kind == "final" else answer.visible(segment)
        msgtype = self.cadence.msgtype
        if action.kind == "first":
            complete = segment.sealed or (answer.finished and segment is answer.segments[-1])
            return fit_content(message_content(text, answer.relation, msgtype=msgtype,
                                               live=not complete))
        assert segment.event_id is not None
        return fit_content(edit_content(segment.event_id, text, msgtype=msgtype,
                                        live=action.kind == "edit"))

    async def _send(self, action: _Action) -> None:
        answer, segment = action.answer, action.segment
        content = self._content(action)
        complete = action.kind == "final" or (
            action.kind == "first" and content.get("org.matrix.msc4357.live") != {}
        )
        shown = segment.text if complete else answer.visible(segment)
        updates = answer.updates
        try:
            event_id = await self.sender.send_message(answer.room_id, content, answer.next_txn())
        except RateLimited as limited:
            now = self.clock.now()
            self.paused_until = max(self.paused_until, now + limited.retry_after_ms / 1000)
            self.backoff = min(self.backoff * 2, 8.0)
            self.observer.rate_limited()
            logger.warning("rate limited: pausing all sends for %s ms", limited.retry_after_ms)
            return
        except SendFailed as failure:
            self._failed(answer, action, str(failure), failure.retryable)
            return
        except Exception as exc:  # network errors surface as all kinds of exceptions
            self._failed(answer, action, f"{type(exc).__name__}: {exc}", True)
            return
        finally:
            answer.in_flight = False
            self.wake()
        now = self.clock.now()
        answer.failures = 0
        answer.retry_at = 0.0
        answer.last_sent_at = now
        self.backoff = max(1.0, self.backoff * 0.9)
        if segment.event_id is None:
            segment.event_id = event_id
        segment.sent = shown
        if complete:
            segment.final_sent = True
        if not answer.first_visible:
            answer.first_visible = True
            self.observer.first_visible(now - answer.started_at)
        self.observer.sent(action.kind)
        if updates > 1:
            self.observer.coalesced(updates - 1)
        answer.updates = max(0, answer.updates - updates)
        self._maybe_done(answer)

    def _failed(self, answer: LiveAnswer, action: _Action, why: str, retryable: bool) -> None:
        now = self.clock.now()
        answer.failures += 1
        gave_up = not retryable or (
            action.priority and now - answer.started_at > self.cadence.final_retry_deadline_s
        )
        if not action.priority and not retryable:
            # A live edit the server refuses is skipped; the final edit will carry the text.
            action.segment.sent = answer.visible(action.segment)
            logger.warning("live edit refused (%s); skipping it", why)
            return
        if gave_up:
            logger.error("giving up on answer in %s: %s", answer.room_id, why)
            answer.failed = why
            answer.finished = True
            self._complete(answer)
            return
        answer.retry_at = now + min(2.0 ** min(answer.failures, 5), 30.0)
        logger.warning("send failed (%s); retry %s in %.0fs", why, answer.failures,
                       answer.retry_at - now)

    def _maybe_done(self, answer: LiveAnswer) -> None:
        if answer.finished and all(s.final_sent for s in answer.segments):
            self._complete(answer)

    def _complete(self, answer: LiveAnswer) -> None:
        if answer in self.answers:
            self.answers.remove(answer)
        answer.done.set()

    def tick(self) -> int:
        """Start every send that is due now; returns how many were started."""
        actions = self.take_due()
        for action in actions:
            action.answer.in_flight = True
            task = asyncio.get_running_loop().create_task(self._send(action))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(actions)

    async def settle(self) -> None:
        """Wait for the sends in flight (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def run(self, sleep: Callable[[float], Any] | None = None) -> None:
        """The loop: tick, then wait for new text or the next due time."""
        while True:
            self._wake.clear()
            self.tick()
            wake_at = self.next_wake()
            timeout = None if wake_at is None else max(0.01, wake_at - self.clock.now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def shutdown(self, reason: str, timeout_s: float = 15.0) -> None:
        """Finish every live answer with an interruption marker and deliver the final edits."""
        pending = [a for a in self.answers if not a.finished]
        for answer in pending:
            answer.segments[-1].text += strings.INTERRUPTED.format(reason=reason)
            answer.finished = True
            answer.status = ""
        self.wake()
        waiting = [a.done.wait() for a in list(self.answers)]
        if waiting:
            try:
                await asyncio.wait_for(asyncio.gather(*waiting), timeout=timeout_s)
            except TimeoutError:
                logger.error("%d answers could not be finalised before shutdown",
                             sum(1 for a in self.answers if not a.done.is_set()))
