"""One answer: context → budget reservation → model stream (with tool steps) → settle.

The answer's text goes into a ``LiveAnswer`` of the account's edit scheduler; this module never
sends events itself. Cancellation (a redacted or edited prompt, a 🔁, shutdown) ends the answer
with a visible marker and still settles what was spent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from hearth.ai_bot import strings
from hearth.ai_bot.budget.types import BudgetRefusal, Ledger, Period, Reservation
from hearth.ai_bot.config import BotConfig
from hearth.ai_bot.context.history import Turn, conversation_turns
from hearth.ai_bot.context.prompt import build_prompt
from hearth.ai_bot.context.visibility import visible_since
from hearth.ai_bot.llm.catalogue import Catalogue
from hearth.ai_bot.llm.types import (
    ChatMessage,
    ChatRequest,
    ModelError,
    ModelInfo,
    ModelProvider,
    StreamEnd,
    TextDelta,
    ToolCall,
    ToolCallsReady,
    Usage,
)
from hearth.ai_bot.permissions import AiAccess
from hearth.ai_bot.routing import Conversation
from hearth.ai_bot.streaming.scheduler import EditScheduler, LiveAnswer
from hearth.ai_bot.tools.registry import RoomReader, ToolContext, ToolRegistry

logger = logging.getLogger(__name__)


class Counter(Protocol):
    def count(self, text: str) -> int: ...


@dataclass
class Job:
    """What to answer, for whom, where."""

    prompt_event_id: str
    prompt_text: str
    prompt_ts: int
    sender: str
    conversation: Conversation
    model: str
    access: AiAccess
    system_prompt: str | None
    reset_ts: int
    relation: dict[str, Any]
    existing_event_id: str | None = None
    # Who asked for this answer when not the prompt's sender (a 🔁 by another member).
    requester: str | None = None
    cancel_reason: str = strings.REASON_CANCELLED
    live: LiveAnswer | None = None
    usage: list[Usage] = field(default_factory=list)

    @property
    def payer(self) -> str:
        """Whose request this is: charged for it, and whose view of the room the model gets."""
        return self.requester or self.sender


def cost_usd(info: ModelInfo, prompt_tokens: int, completion_tokens: int) -> float:
    return (prompt_tokens * info.input_price_per_mtok
            + completion_tokens * info.output_price_per_mtok) / 1_000_000


@dataclass
class Answerer:
    """Produces answers; shared by every conversation of the bot."""

    config: BotConfig
    _: KW_ONLY
    provider: ModelProvider
    catalogue: Catalogue
    ledger: Ledger | None
    scheduler: EditScheduler
    reader: RoomReader
    tools: ToolRegistry
    bot_user_id: str
    display_name: Callable[[str, str], str]
    counter_for: Callable[[str], Counter]

    async def _turns(self, job: Job) -> list[Turn]:
        conversation = job.conversation
        limit = self.config.context.max_history_events
        if conversation.thread_root is None:
            events = await self.reader.recent_events(conversation.room_id, limit)
        else:
            root = await self.reader.get_event(conversation.room_id, conversation.thread_root)
            thread = await self.reader.thread_events(conversation.room_id,
                                                     conversation.thread_root, limit)
            events = ([root] if root else []) + thread
        # Only what the requester may read: under "joined" visibility a latecomer's context
        # starts at their join (someone who has left since gets their prompt alone).
        since = await visible_since(self.reader, conversation.room_id, job.payer)
        floor = job.prompt_ts if since is None else since
        turns = conversation_turns(events, conversation, self.bot_user_id,
                                   after_ts=max(job.reset_ts, floor - 1),
                                   up_to_event=job.prompt_event_id)
        # The prompt as routed (edits applied, mention stripped) is what the model answers.
        turns = [t for t in turns if t.event_id != job.prompt_event_id]
        turns.append(Turn(job.prompt_event_id, job.sender, "user", job.prompt_text,
                          job.prompt_ts))
        return turns

    def _limits(self, access: AiAccess) -> tuple[dict[Period, float | None], ...]:
        a = self.config.access
        return (
            {"day": access.daily_usd, "month": access.monthly_usd},
            {"day": a.room_daily_usd, "month": a.room_monthly_usd},
            {"day": a.bot_daily_usd, "month": a.bot_monthly_usd},
        )

    async def _summary(self, job: Job, dropped: Sequence[Turn]) -> str | None:
        if not self.config.context.summarize_older or not dropped:
            return None
        room = job.conversation.room_id
        text = "\n".join(f"{self.display_name(room, t.sender)}: {t.text}" for t in dropped[-60:])
        request = ChatRequest(model=job.model, max_output_tokens=300, messages=(
            ChatMessage(role="system", content="Summarise this chat in at most 8 short bullet "
                        "points, keeping names, decisions and open questions."),
            ChatMessage(role="user", content=text[-24_000:]),
        ))
        parts: list[str] = []
        try:
            async for event in self.provider.stream_chat(request):
                if isinstance(event, TextDelta):
                    parts.append(event.text)
                elif isinstance(event, Usage):
                    job.usage.append(event)
        except ModelError as exc:
            logger.warning("summary failed: %s", exc)
            return None
        return "".join(parts) or None

    async def _over_token_budget(self, job: Job, info: ModelInfo,
                                 notify: Callable[[str], Any]) -> bool:
        """The policy's daily token budget, checked against today's settled spend (valued at
        this model's blended price: the ledger keeps dollars)."""
        budget = job.access.daily_token_budget
        if budget is None or self.ledger is None:
            return False
        blended = (info.input_price_per_mtok + info.output_price_per_mtok) / 2 / 1_000_000
        if blended <= 0:
            return False
        spent = await self.ledger.summary(job.payer, job.conversation.room_id)
        if spent.user_day_usd / blended < budget:
            return False
        await notify(strings.DAILY_ALLOWANCE_USED.format(tokens=budget))
        return True

    async def run(self, job: Job, notify: Callable[[str], Any]) -> LiveAnswer | None:
        """Answer ``job``; ``notify`` sends a refusal notice. Returns the live answer."""
        info = self.catalogue.get(job.model)
        counter = self.counter_for(job.model)
        max_out = min(self.config.context.max_output_tokens, info.max_output_tokens)
        use_tools = self.config.tools.enabled and info.supports_tools
        specs = self.tools.specs() if use_tools else ()
        tool_tokens = sum(counter.count(s.description) + counter.count(str(s.parameters))
                          for s in specs)
        budget = info.context_window - max_out - self.config.context.token_margin - tool_tokens
        turns = await self._turns(job)
        room = job.conversation.room_id
        prompt = build_prompt(
            turns, display_name=lambda uid: self.display_name(room, uid),
            system_prompt=job.system_prompt, budget_tokens=max(budget, 256),
            count=counter.count,
        )
        summary = await self._summary(job, prompt.dropped)
        if summary:
            prompt = build_prompt(
                turns, display_name=lambda uid: self.display_name(room, uid),
                system_prompt=job.system_prompt, budget_tokens=max(budget, 256),
                count=counter.count, summary=summary,
            )
        if await self._over_token_budget(job, info, notify):
            return None
        reservation: Reservation | None = None
        if self.ledger is not None:
            estimate = cost_usd(info, prompt.tokens + tool_tokens, max_out) * (
                1 if not specs else 2)
            user, room_limits, bot = self._limits(job.access)
            try:
                held = await self.ledger.reserve(job.payer, room, job.model, estimate,
                                                 user, room_limits, bot)
            except Exception:
                # Fail closed: no call without a record of what it may cost.
                logger.exception("budget reservation failed")
                await notify(strings.BUDGET_UNAVAILABLE)
                return None
            if isinstance(held, BudgetRefusal):
                await notify(held.message())
                return None
            reservation = held
        live = self.scheduler.open(room, job.relation, job.existing_event_id)
        job.live = live
        try:
            await self._stream(job, live, list(prompt.messages), specs, max_out)
        except asyncio.CancelledError:
            await live.finish(strings.INTERRUPTED.format(reason=job.cancel_reason))
            raise
        except ModelError as exc:
            text = ("\n\n" if live.text else "") + strings.MODEL_FAILED.format(
                message=exc.user_message)
            await live.finish(text)
        except Exception:
            logger.exception("answer failed")
            await live.finish(strings.INTERRUPTED.format(reason="an internal error"))
        finally:
            if reservation is not None and self.ledger is not None:
                spent, answered_by = self._spent(job)
                settled = dataclasses.replace(reservation, model=answered_by)
                await asyncio.shield(self.ledger.settle(settled, spent))
        return live

    def _spent(self, job: Job) -> tuple[float, str]:
        """The real cost of the job's calls, each at the price of the model that answered
        (a fallback may have), and the model to record."""
        total, model = 0.0, job.model
        for usage in job.usage:
            name = usage.model or job.model
            info = self.catalogue.get(name if name in self.catalogue else job.model)
            total += cost_usd(info, usage.prompt_tokens, usage.completion_tokens)
            model = info.name
        return total, model

    async def _stream(self, job: Job, live: LiveAnswer, messages: list[ChatMessage],
                      specs: Sequence[Any], max_out: int) -> None:
        steps = self.config.tools.max_steps
        end: StreamEnd | None = None
        for step in range(steps):
            last = step == steps - 1
            offer = tuple(specs) if not last else ()
            request = ChatRequest(model=job.model, messages=tuple(messages), tools=offer,
                                  max_output_tokens=max_out)
            calls: tuple[ToolCall, ...] = ()
            step_text: list[str] = []
            async for event in self.provider.stream_chat(request):
                if isinstance(event, TextDelta):
                    if live.status:
                        live.set_status("")
                    step_text.append(event.text)
                    live.append(event.text)
                elif isinstance(event, ToolCallsReady):
                    calls = event.calls
                elif isinstance(event, Usage):
                    job.usage.append(event)
                elif isinstance(event, StreamEnd):
                    end = event
            if not calls:
                break
            if last:
                # Tools were not offered on the last step; a model that still asks for them
                # gets no more steps, and the reader is told the answer stopped short.
                logger.info("tool step limit (%d) reached in %s", steps,
                            job.conversation.room_id)
                live.append(("\n\n" if live.text.strip() else "")
                            + strings.TOOL_STEPS_EXHAUSTED.format(steps=steps))
                break
            if step_text and not "".join(step_text).endswith("\n"):
                live.append("\n\n")
            live.set_status(strings.TOOL_RUNNING.format(tool=", ".join(c.name for c in calls)))
            messages.append(ChatMessage(role="assistant", content="".join(step_text) or None,
                                        tool_calls=calls))
            context = ToolContext(
                user_id=job.payer, conversation=job.conversation, reader=self.reader,
                bot_user_id=self.bot_user_id,
                display_name=lambda uid: self.display_name(job.conversation.room_id, uid),
                now=lambda: datetime.now(UTC),
            )
            for call in calls:
                result = await self.tools.call(call, context)
                messages.append(ChatMessage(role="tool", content=result, tool_call_id=call.id))
        suffix = ""
        if end is not None and end.reason == "length":
            suffix = strings.INTERRUPTED.format(reason=strings.REASON_LENGTH)
        elif end is not None and end.reason == "interrupted":
            suffix = strings.INTERRUPTED.format(
                reason=strings.REASON_MODEL.format(detail=end.detail or "connection lost"))
        await live.finish(suffix)
