"""The edit scheduler, driven by a fake clock and a fake sender."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.ai_bot.config import StreamingConfig
from hearth.ai_bot.matrix.errors import RateLimited, SendFailed
from hearth.ai_bot.routing import LIVE_KEY
from hearth.ai_bot.streaming.content import content_size, edit_content, fit_content
from hearth.ai_bot.streaming.scheduler import EditScheduler
from tests.harness.clocks import ManualClock


class FakeSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], str]] = []
        self.fail_next: list[Exception] = []

    async def send_message(self, room_id: str, content: dict[str, Any], txn_id: str) -> str:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.sent.append((room_id, content, txn_id))
        return f"$ev{len(self.sent)}"


class Observed:
    def __init__(self) -> None:
        self.first: list[float] = []
        self.kinds: list[str] = []
        self.coalesced_updates = 0
        self.limited = 0

    def first_visible(self, seconds: float) -> None:
        self.first.append(seconds)

    def sent(self, kind: str) -> None:
        self.kinds.append(kind)

    def coalesced(self, updates: int) -> None:
        self.coalesced_updates += updates

    def rate_limited(self) -> None:
        self.limited += 1


def make(**cadence: Any) -> tuple[EditScheduler, FakeSender, ManualClock, Observed]:
    sender, clock, observed = FakeSender(), ManualClock(1000.0), Observed()
    scheduler = EditScheduler(sender, StreamingConfig(**cadence), clock=clock, observer=observed)
    return scheduler, sender, clock, observed


async def step(scheduler: EditScheduler) -> int:
    started = scheduler.tick()
    await scheduler.settle()
    return started


async def test_scheduler_first_event_sent_immediately_with_live_marker() -> None:
    """The first tokens go out at once as a new message carrying the live marker."""
    scheduler, sender, _, observed = make()
    answer = scheduler.open("!r", {"m.in_reply_to": {"event_id": "$prompt"}})
    answer.append("Hel")
    assert await step(scheduler) == 1
    _, content, _ = sender.sent[0]
    assert content["body"] == "Hel" and content[LIVE_KEY] == {}
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$prompt"}}
    assert "formatted_body" not in content
    assert observed.first == [0.0]


async def test_scheduler_coalesces_updates_within_interval() -> None:
    """Many appends between edits become one edit; the count of coalesced updates is kept."""
    scheduler, sender, clock, observed = make(min_edit_interval_s=1.0)
    answer = scheduler.open("!r")
    answer.append("a")
    await step(scheduler)
    for piece in "bcdef":
        answer.append(piece)
        assert await step(scheduler) == 0  # within the interval: nothing sent
    clock.advance(1.0)
    assert await step(scheduler) == 1
    edit = sender.sent[-1][1]
    assert edit["m.new_content"]["body"] == "abcdef"
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$ev1"}
    assert edit[LIVE_KEY] == {} and edit["m.new_content"][LIVE_KEY] == {}
    assert observed.coalesced_updates == 4


async def test_scheduler_final_edit_drops_marker_and_carries_html() -> None:
    """finish() sends the final edit at once, without live marker, with formatted_body."""
    scheduler, sender, _, observed = make(min_edit_interval_s=5.0)
    answer = scheduler.open("!r")
    answer.append("**bold**")
    await step(scheduler)
    answer.append(" done")
    import asyncio

    waiter = asyncio.create_task(answer.finish())
    await asyncio.sleep(0)
    await step(scheduler)
    assert await waiter is True
    final = sender.sent[-1][1]
    assert LIVE_KEY not in final and LIVE_KEY not in final["m.new_content"]
    assert final["m.new_content"]["formatted_body"] == "<p><strong>bold</strong> done</p>"
    assert final["m.new_content"]["body"] == "**bold** done"
    assert observed.kinds == ["first", "final"]
    assert scheduler.answers == []


async def test_scheduler_short_answer_is_one_complete_message() -> None:
    """An answer finished before its first send goes out as one message with HTML, no marker."""
    import asyncio

    scheduler, sender, _, _ = make()
    answer = scheduler.open("!r")
    answer.append("hi *there*")
    waiter = asyncio.create_task(answer.finish())
    await asyncio.sleep(0)
    await step(scheduler)
    assert await waiter
    assert len(sender.sent) == 1
    content = sender.sent[0][1]
    assert LIVE_KEY not in content and content["formatted_body"] == "<p>hi <em>there</em></p>"


async def test_scheduler_rate_limit_pauses_all_sends() -> None:
    """A 429 pauses every answer for retry_after_ms, then the same edit is retried."""
    scheduler, sender, clock, observed = make(min_edit_interval_s=0.5)
    one, two = scheduler.open("!a"), scheduler.open("!b")
    one.append("x")
    two.append("y")
    sender.fail_next = [RateLimited(3000)]
    await step(scheduler)
    assert observed.limited == 1 and len(sender.sent) == 1
    clock.advance(2.9)
    assert await step(scheduler) == 0
    assert scheduler.next_wake() == pytest.approx(1003.0)
    clock.advance(0.2)
    assert await step(scheduler) == 1
    assert len(sender.sent) == 2
    assert scheduler.backoff > 1.0


async def test_scheduler_cadence_adapts_to_live_answers() -> None:
    """With many live answers, each is edited less often to keep the global edit budget."""
    scheduler, _, _, _ = make(min_edit_interval_s=0.5, max_edits_per_second=4.0)
    assert scheduler.interval() == 0.5
    for index in range(8):
        scheduler.open(f"!r{index}")
    assert scheduler.interval() == pytest.approx(2.0)


async def test_scheduler_global_budget_limits_edits_per_tick() -> None:
    """Edits beyond the token bucket wait; first events and finals are not held back."""
    scheduler, _, clock, _ = make(min_edit_interval_s=0.1, max_edits_per_second=2.0,
                                  max_concurrent_sends=32)
    answers = [scheduler.open(f"!r{i}") for i in range(6)]
    for answer in answers:
        answer.append("a")
    assert await step(scheduler) == 6  # first events all go
    clock.advance(5.0)
    for answer in answers:
        answer.append("b")
    assert await step(scheduler) == 2  # bucket of 2


async def test_scheduler_final_edit_retried_through_outage() -> None:
    """Network failures delay the final edit but it is delivered once the server is back."""
    import asyncio

    scheduler, sender, clock, _ = make()
    answer = scheduler.open("!r")
    answer.append("text")
    await step(scheduler)
    sender.fail_next = [ConnectionError("down"), SendFailed("502", retryable=True)]
    waiter = asyncio.create_task(answer.finish())
    await asyncio.sleep(0)
    await step(scheduler)
    clock.advance(2.5)
    await step(scheduler)
    assert not waiter.done()
    clock.advance(5)
    await step(scheduler)
    assert await waiter is True
    assert LIVE_KEY not in sender.sent[-1][1]


async def test_scheduler_gives_up_on_refused_first_event() -> None:
    """A non-retryable refusal of the first event ends the answer as failed."""
    import asyncio

    scheduler, sender, _, _ = make()
    answer = scheduler.open("!r")
    answer.append("x")
    sender.fail_next = [SendFailed("403 M_FORBIDDEN", retryable=False)]
    await step(scheduler)
    assert await asyncio.wait_for(answer.finish(), 1) is False
    assert answer.failed


async def test_scheduler_overflow_continues_in_follow_up_message() -> None:
    """Text past max_body_bytes is sealed into its event; the rest starts a new message."""
    import asyncio

    scheduler, sender, clock, _ = make(max_body_bytes=300, min_edit_interval_s=0.1)
    answer = scheduler.open("!r", {"m.in_reply_to": {"event_id": "$p"}})
    answer.append("word " * 20)
    await step(scheduler)
    answer.append("more " * 80)
    assert len(answer.segments) >= 2
    waiter = asyncio.create_task(answer.finish())
    for _ in range(10):
        clock.advance(1)
        await step(scheduler)
    assert await waiter
    firsts = [c for _, c, _ in sender.sent if "m.new_content" not in c]
    assert len(firsts) == len(answer.segments)
    for _, content, _ in sender.sent:
        assert len(content["body"].encode()) <= 300 + 2
    finals = [c for _, c, _ in sender.sent if "m.new_content" in c and LIVE_KEY not in c]
    assert {f["m.relates_to"]["event_id"] for f in finals} >= {"$ev1"}
    assert "".join(s.text for s in answer.segments).count("more") == 80


async def test_scheduler_shutdown_marks_answers_interrupted() -> None:
    """On shutdown every live answer gets a final edit with the interruption marker."""
    import asyncio

    scheduler, sender, _, _ = make()
    answer = scheduler.open("!r")
    answer.append("partial")
    await step(scheduler)
    loop_task = asyncio.create_task(scheduler.run())
    await scheduler.shutdown("restart", timeout_s=5)
    loop_task.cancel()
    final = sender.sent[-1][1]
    assert "interrupted" in final["m.new_content"]["body"] and LIVE_KEY not in final


async def test_scheduler_status_line_shown_live_not_in_final() -> None:
    """A tool status line appears in live edits and disappears from the final edit."""
    import asyncio

    scheduler, sender, clock, _ = make(min_edit_interval_s=0.1)
    answer = scheduler.open("!r")
    answer.set_status("\n\n*⏳ search…*")
    await step(scheduler)
    assert "search" in sender.sent[0][1]["body"]
    answer.append("found it")
    waiter = asyncio.create_task(answer.finish())
    await asyncio.sleep(0)
    clock.advance(1)
    await step(scheduler)
    await waiter
    assert sender.sent[-1][1]["m.new_content"]["body"] == "found it"


async def test_scheduler_regenerates_into_existing_event() -> None:
    """An answer opened on an existing event edits it instead of sending a new message."""
    import asyncio

    scheduler, sender, _, _ = make()
    answer = scheduler.open("!r", existing_event_id="$old")
    answer.append("new text")
    waiter = asyncio.create_task(answer.finish())
    await asyncio.sleep(0)
    await step(scheduler)
    await waiter
    assert [c["m.relates_to"]["event_id"] for _, c, _ in sender.sent] == ["$old"]


async def test_scheduler_regenerated_answer_keeps_old_text_until_new_text() -> None:
    """Regenerating into an existing event sends no blank edit before the new text comes."""
    scheduler, sender, _, _ = make()
    answer = scheduler.open("!r", existing_event_id="$old")
    assert await step(scheduler) == 0 and scheduler.next_wake() is None
    answer.append("fresh")
    await step(scheduler)
    assert [c["m.new_content"]["body"] for _, c, _ in sender.sent] == ["fresh"]


def test_content_too_large_sheds_fallback_then_html_never_text() -> None:
    """An edit whose HTML would make too large an event loses the fallback's HTML and text
    first, then its own HTML; the answer's text is kept whole."""
    text = " ".join(f'"w{i}" & <i>' for i in range(900))  # ~12 KB, HTML ~2.5x longer
    edit = edit_content("$a", text, msgtype="m.text", live=False)
    assert content_size(edit) > 45_000
    fitted = fit_content(edit)
    assert content_size(fitted) <= 45_000
    assert fitted["m.new_content"]["body"] == text
    assert "formatted_body" not in fitted and len(fitted["body"]) < 600
    small = edit_content("$a", "short *answer*", msgtype="m.text", live=False)
    assert fit_content(small) == small
    assert fit_content(edit, max_bytes=20_000)["m.new_content"] == {
        "msgtype": "m.text", "body": text}
