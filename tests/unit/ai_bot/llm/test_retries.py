"""Retries before the first token: 429 honouring Retry-After, 5xx with backoff, giving up."""

from __future__ import annotations

import dataclasses
import itertools
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from prometheus_client import REGISTRY

from devtools.fake_openai import Fail, FakeOpenAI, Reply
from hearth.ai_bot.llm.config import RetrySettings
from hearth.ai_bot.llm.errors import retry_after_seconds
from hearth.ai_bot.llm.retry import RetryPolicy
from hearth.ai_bot.llm.types import StreamEnd
from tests.harness.ports import free_port
from tests.unit.ai_bot.llm.support import collect, failure_of, provider_for, request, text_of

RATE_LIMITED = Fail(429, "Rate limit reached for gpt-4o.", "requests", "rate_limit_exceeded")


def _gaps(server: FakeOpenAI) -> list[float]:
    times = [r.received_at for r in server.requests]
    return [b - a for a, b in itertools.pairwise(times)]


async def test_429_is_retried_after_retry_after_seconds(fake_openai: FakeOpenAI) -> None:
    """A 429 with Retry-After: 0.5 is retried no sooner than half a second later."""
    fake_openai.push(dataclasses.replace(RATE_LIMITED, retry_after="0.5"),
                     Reply(text="Answer after the wait."))
    before = REGISTRY.get_sample_value("hearth_ai_model_retries_total",
                                       {"model": "gpt-4o", "kind": "rate_limited"}) or 0
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request())
    assert text_of(events) == "Answer after the wait."
    assert len(fake_openai.requests) == 2
    assert _gaps(fake_openai)[0] >= 0.5
    assert REGISTRY.get_sample_value("hearth_ai_model_retries_total",
                                     {"model": "gpt-4o", "kind": "rate_limited"}) == before + 1


async def test_429_retry_after_ms_is_honoured(fake_openai: FakeOpenAI) -> None:
    """OpenAI's retry-after-ms header wins over the exponential schedule."""
    fake_openai.push(Fail(429, retry_after_ms=300), Reply(text="ok"))
    async with provider_for(fake_openai) as provider:
        assert text_of(await collect(provider, request())) == "ok"
    assert _gaps(fake_openai)[0] >= 0.3


async def test_500_then_success_is_retried_with_backoff(fake_openai: FakeOpenAI) -> None:
    """Two 500s and a 502, then an answer: the user only sees the answer."""
    fake_openai.push(Fail(500), Fail(500), Reply(text="Recovered."))
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request())
    assert text_of(events) == "Recovered." and events[-1] == StreamEnd("stop")
    assert len(fake_openai.requests) == 3


async def test_persistent_500_gives_up_with_an_honest_message(fake_openai: FakeOpenAI) -> None:
    """After max_attempts failures the user hears one short sentence, and no more calls go."""
    fake_openai.push(Fail(500), Fail(503), Fail(500), Fail(500))
    error = await failure_of(fake_openai)
    assert error.kind == "server_error"
    assert error.user_message == (
        "The AI service failed (500) and did not answer; try again shortly.")
    assert len(fake_openai.requests) == 3  # FAST allows three attempts; the SDK adds none


async def test_retry_after_too_long_is_not_waited_for(fake_openai: FakeOpenAI) -> None:
    """A Retry-After beyond our limit ends at once, telling the user when to come back."""
    fake_openai.push(Fail(429, retry_after="30"))
    error = await failure_of(fake_openai)
    assert error.kind == "rate_limited"
    assert "try again in about 30 seconds" in error.user_message
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize(
    ("fail", "kind", "words"),
    [
        (Fail(429, "You exceeded your current quota", "insufficient_quota",
              "insufficient_quota"), "quota", "out of credit"),
        (Fail(401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"),
         "auth", "check the API key"),
        (Fail(404, "The model does not exist", "invalid_request_error", "model_not_found"),
         "model_not_found", "does not offer the model 'gpt-4o'"),
        (Fail(400, "This model's maximum context length is 128000 tokens.",
              "invalid_request_error", "context_length_exceeded"),
         "context_too_long", "too long"),
        (Fail(400, "Invalid value for 'temperature'.", "invalid_request_error", None),
         "bad_request", "Invalid value for 'temperature'"),
    ],
)
async def test_client_errors_are_not_retried(fake_openai: FakeOpenAI, fail: Fail, kind: str,
                                             words: str) -> None:
    """Quota, key, model and request errors fail at once with a message that says which."""
    fake_openai.push(fail)
    error = await failure_of(fake_openai)
    assert error.kind == kind and words in error.user_message
    assert len(fake_openai.requests) == 1


async def test_unreachable_endpoint_is_a_network_error(fake_openai: FakeOpenAI) -> None:
    """Connection refused is retried, then reported as not reachable."""
    fake_openai.port = free_port()  # nothing listens there
    error = await failure_of(fake_openai)
    assert error.kind == "network"
    assert error.user_message == (
        "The bot could not reach the AI service; try again shortly.")


def test_backoff_grows_exponentially_with_jitter_and_stops() -> None:
    """Delays lie in [d/2, d] for d = base·2^(n-1) capped, and stop at max_attempts."""
    policy = RetryPolicy(RetrySettings(max_attempts=5, base_delay_s=1.0, max_delay_s=5.0),
                         random.Random(7))
    for failures, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0)):
        delay = policy.delay(failures, None)
        assert delay is not None and ceiling / 2 <= delay <= ceiling
    assert policy.delay(5, None) is None


def test_retry_after_is_used_exactly_unless_too_long() -> None:
    """Retry-After replaces the backoff; beyond max_retry_after_s we give up."""
    policy = RetryPolicy(RetrySettings(max_retry_after_s=10.0), random.Random(1))
    assert policy.delay(1, 7.0) == 7.0
    assert policy.delay(1, 11.0) is None


def test_retry_after_header_forms() -> None:
    """Seconds, milliseconds and an HTTP date are all understood; garbage is ignored."""
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    parsed = retry_after_seconds({"retry-after": soon})
    assert parsed is not None and 15 <= parsed <= 20
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None
