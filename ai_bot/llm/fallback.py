"""A circuit breaker per primary model, and a provider that routes to a fallback model.

After ``failure_threshold`` consecutive transient failures (429/5xx after retries, timeouts,
stalls, cut streams) the breaker opens: for ``open_s`` seconds calls go straight to the fallback
instead of making every user wait through the primary's retries. Then one probe call goes to the
primary (half-open); its success closes the breaker, its failure opens it again. A call that
fails on the primary before any output is also answered by the fallback. The breaker is pure
(time comes from an injected clock) and per process: each bot process learns on its own.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import time
from collections.abc import AsyncIterator, Callable

from hearth.ai_bot.llm.errors import TRANSIENT_KINDS
from hearth.ai_bot.llm.types import (
    ChatRequest,
    ModelError,
    ModelProvider,
    StreamEnd,
    StreamEvent,
    Usage,
)
from hearth.ai_bot.metrics import CIRCUIT_OPEN, FALLBACK_CALLS


class BreakerState(enum.Enum):
    """Closed: use the primary. Open: use the fallback. Half-open: one probe to the primary."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Counts consecutive failures of one model and decides whether to try it."""

    def __init__(self, failure_threshold: int, open_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._threshold = failure_threshold
        self._open_s = open_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_started: float | None = None

    @property
    def state(self) -> BreakerState:
        """The state now (open turns half-open by itself when its time is up)."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self._open_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def allow(self) -> bool:
        """Whether this call may go to the primary; in half-open, only one probe at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN:
            return False
        now = self._clock()
        # A probe whose caller vanished without a verdict must not block the model forever.
        if self._probe_started is not None and now - self._probe_started < self._open_s:
            return False
        self._probe_started = now
        return True

    def record_success(self) -> None:
        """The primary answered: close."""
        self._failures = 0
        self._opened_at = None
        self._probe_started = None

    def record_failure(self) -> None:
        """The primary failed: count it, and open at the threshold (or at once when probing)."""
        self._failures += 1
        if self._opened_at is not None or self._failures >= self._threshold:
            self._opened_at = self._clock()
            self._probe_started = None


class FallbackProvider:
    """Sends each call to the primary unless its breaker is open, else to the fallback model."""

    def __init__(
        self, primary: ModelProvider, fallback: ModelProvider, fallback_model: str, *,
        failure_threshold: int = 3, open_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._fallback_model = fallback_model
        # Every primary model gets a breaker of its own, all alike.
        self._new_breaker = functools.partial(CircuitBreaker, failure_threshold, open_s, clock)
        self._breakers: dict[str, CircuitBreaker] = {}

    def breaker(self, model: str) -> CircuitBreaker:
        """The breaker of a primary model (made on first use)."""
        if model not in self._breakers:
            self._breakers[model] = self._new_breaker()
        return self._breakers[model]

    def model_for(self, model: str) -> str:
        """The model a call for ``model`` would use now: reserve the budget at its price."""
        if model == self._fallback_model:
            return model
        return self._fallback_model if self.breaker(model).state is BreakerState.OPEN else model

    def stream_chat(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Like any provider; a ``Usage`` from the fallback names the fallback model."""
        return self._stream(request)

    async def _stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        if request.model != self._fallback_model:
            breaker = self.breaker(request.model)
            if breaker.allow():
                try:
                    async for event in self._primary.stream_chat(request):
                        if isinstance(event, StreamEnd):
                            if event.reason == "interrupted":
                                breaker.record_failure()
                            else:
                                breaker.record_success()
                            self._publish(request.model)
                        yield event
                    return
                except ModelError as exc:
                    # Providers raise only before any event, so nothing was shown yet.
                    if exc.kind not in TRANSIENT_KINDS:
                        breaker.record_success()  # it answered; the request was the problem
                        self._publish(request.model)
                        raise
                    breaker.record_failure()
                    self._publish(request.model)
            FALLBACK_CALLS.labels(request.model, self._fallback_model).inc()
        fallback_request = dataclasses.replace(request, model=self._fallback_model)
        async for event in self._fallback.stream_chat(fallback_request):
            if isinstance(event, Usage) and not event.model:
                event = dataclasses.replace(event, model=self._fallback_model)
            yield event

    def _publish(self, model: str) -> None:
        CIRCUIT_OPEN.labels(model).set(1 if self.breaker(model).state is BreakerState.OPEN
                                       else 0)
