"""Circuit breaker and fallback routing, with a fake clock and scripted providers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hearth.ai_bot.llm.fallback import BreakerState, CircuitBreaker, FallbackProvider
from hearth.ai_bot.llm.types import (
    ChatMessage,
    ChatRequest,
    ModelError,
    StreamEnd,
    StreamEvent,
    TextDelta,
    Usage,
)
from tests.harness.clocks import ManualClock


class Scripted:
    """A provider whose calls fail or answer as queued."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []  # "ok", "interrupted", or a ModelError kind
        self.models: list[str] = []

    def stream_chat(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        return self._run(request)

    async def _run(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        self.models.append(request.model)
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome not in ("ok", "interrupted"):
            raise ModelError(outcome, f"{outcome} happened")
        yield TextDelta(f"from {request.model}")
        yield Usage(10, 5)
        yield StreamEnd("stop" if outcome == "ok" else "interrupted")


def _request(model: str = "gpt-4o") -> ChatRequest:
    return ChatRequest(model=model, messages=[ChatMessage("user", "hi")])


async def _run(provider: FallbackProvider, model: str = "gpt-4o") -> list[StreamEvent]:
    return [event async for event in provider.stream_chat(_request(model))]


def test_breaker_opens_after_threshold_and_half_opens_after_time() -> None:
    """Closed → open at N consecutive failures → half-open after T → closed on success."""
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=3, open_s=30, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    clock.advance(29.9)
    assert not breaker.allow()
    clock.advance(0.2)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one probe at a time
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()


def test_success_resets_the_failure_count() -> None:
    """Failures must be consecutive to open the breaker."""
    breaker = CircuitBreaker(failure_threshold=2, open_s=30, clock=ManualClock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def _probing_breaker(clock: ManualClock) -> CircuitBreaker:
    """A breaker (one failure opens it for 10 s) that has opened, half-opened and let its one
    probe through."""
    breaker = CircuitBreaker(failure_threshold=1, open_s=10, clock=clock)
    breaker.record_failure()
    clock.advance(10)
    assert breaker.allow()
    return breaker


def test_failed_probe_reopens_for_a_full_period() -> None:
    """A probe failure in half-open opens the breaker again from now."""
    clock = ManualClock()
    breaker = _probing_breaker(clock)
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.advance(9)
    assert not breaker.allow()


def test_abandoned_probe_does_not_block_forever() -> None:
    """A probe that never reports back is replaced after another open period."""
    clock = ManualClock()
    breaker = _probing_breaker(clock)
    clock.advance(5)
    assert not breaker.allow()
    clock.advance(5)
    assert breaker.allow()


async def test_failure_before_output_is_answered_by_the_fallback() -> None:
    """A transient primary failure goes to the fallback, whose Usage names its model."""
    primary, backup = Scripted(), Scripted()
    primary.outcomes = ["server_error"]
    provider = FallbackProvider(primary, backup, "gpt-4o-mini", clock=ManualClock())
    events = await _run(provider)
    assert events[0] == TextDelta("from gpt-4o-mini")
    assert events[1] == Usage(10, 5, model="gpt-4o-mini")
    assert primary.models == ["gpt-4o"] and backup.models == ["gpt-4o-mini"]


async def test_open_breaker_skips_the_primary_until_the_probe() -> None:
    """After N failures the primary is not called; after open_s one probe goes to it."""
    clock = ManualClock()
    primary, backup = Scripted(), Scripted()
    primary.outcomes = ["timeout", "rate_limited", "stalled"]
    provider = FallbackProvider(primary, backup, "gpt-4o-mini", failure_threshold=3,
                                open_s=60, clock=clock)
    for _ in range(3):
        await _run(provider)
    assert provider.model_for("gpt-4o") == "gpt-4o-mini"
    await _run(provider)
    assert len(primary.models) == 3 and len(backup.models) == 4
    clock.advance(60)
    events = await _run(provider)
    assert events[0] == TextDelta("from gpt-4o")
    assert provider.breaker("gpt-4o").state is BreakerState.CLOSED
    assert provider.model_for("gpt-4o") == "gpt-4o"


async def test_interrupted_streams_count_as_failures() -> None:
    """A cut stream is a failure of the endpoint even though the user got part of it."""
    primary, backup = Scripted(), Scripted()
    primary.outcomes = ["interrupted"]
    provider = FallbackProvider(primary, backup, "gpt-4o-mini", failure_threshold=1,
                                clock=ManualClock())
    events = await _run(provider)
    assert events[-1] == StreamEnd("interrupted") and backup.models == []
    assert provider.breaker("gpt-4o").state is BreakerState.OPEN


async def test_request_errors_are_not_routed_or_counted() -> None:
    """An auth or bad-request error is the user's answer; the fallback would not help."""
    primary, backup = Scripted(), Scripted()
    primary.outcomes = ["context_too_long"]
    provider = FallbackProvider(primary, backup, "gpt-4o-mini", failure_threshold=1,
                                clock=ManualClock())
    with pytest.raises(ModelError) as caught:
        await _run(provider)
    assert caught.value.kind == "context_too_long" and backup.models == []
    assert provider.breaker("gpt-4o").state is BreakerState.CLOSED


async def test_fallback_failure_reaches_the_user() -> None:
    """When the fallback fails too, its error is what the user hears."""
    primary, backup = Scripted(), Scripted()
    primary.outcomes = ["server_error"]
    backup.outcomes = ["network"]
    provider = FallbackProvider(primary, backup, "gpt-4o-mini", clock=ManualClock())
    with pytest.raises(ModelError) as caught:
        await _run(provider)
    assert caught.value.kind == "network"


async def test_calls_for_the_fallback_model_go_straight_to_it() -> None:
    """Asking for the fallback model itself never touches the primary."""
    primary, backup = Scripted(), Scripted()
    provider = FallbackProvider(primary, backup, "gpt-4o-mini", clock=ManualClock())
    await _run(provider, "gpt-4o-mini")
    assert primary.models == [] and backup.models == ["gpt-4o-mini"]
