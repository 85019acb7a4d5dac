"""Timeouts, stalls and cut connections: interrupted answers are marked, never truncated."""

from __future__ import annotations

import time

import pytest

from devtools.fake_openai import FakeOpenAI, FakeToolCall, Reply
from hearth.ai_bot.llm.types import ModelError, StreamEnd, Usage
from tests.unit.ai_bot.llm.support import collect, provider_for, request, text_of

SIX_WORDS = "one two three four five six"


async def test_first_token_timeout_is_an_error_not_a_hang(fake_openai: FakeOpenAI) -> None:
    """Headers arrive but no chunk within first_token_s: ModelError('timeout'), promptly."""
    fake_openai.push(Reply(first_chunk_delay_s=5))
    started = time.monotonic()
    async with provider_for(fake_openai, timeouts={"first_token_s": 0.3}) as provider:
        with pytest.raises(ModelError) as caught:
            await collect(provider, request())
    assert caught.value.kind == "timeout"
    assert "did not start answering within 0.3 seconds" in caught.value.user_message
    assert time.monotonic() - started < 1.5
    assert len(fake_openai.requests) == 1  # a slow endpoint is not hit again


async def test_slow_headers_count_toward_the_first_token_timeout(
        fake_openai: FakeOpenAI) -> None:
    """A server that sits on the request without answering times out the same way."""
    fake_openai.push(Reply(headers_delay_s=5))
    async with provider_for(fake_openai, timeouts={"first_token_s": 0.3}) as provider:
        with pytest.raises(ModelError) as caught:
            await collect(provider, request())
    assert caught.value.kind == "timeout"


async def test_stall_mid_answer_ends_interrupted_with_text_kept(
        fake_openai: FakeOpenAI) -> None:
    """Three words, then silence: the three words stay and the stream ends 'interrupted'."""
    fake_openai.push(Reply(text=SIX_WORDS, stall_after=3, stall_s=5))
    started = time.monotonic()
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request())
    assert text_of(events) == "one two three "
    usage, end = events[-2], events[-1]
    # Counted with o200k_base: "one", " two", " three", " ".
    assert isinstance(usage, Usage) and usage.estimated and usage.completion_tokens == 4
    assert end == StreamEnd("interrupted", "no data for 0.4 seconds")
    assert 0.35 <= time.monotonic() - started < 1.5


async def test_short_pause_within_the_stall_limit_is_fine(fake_openai: FakeOpenAI) -> None:
    """A pause shorter than stall_s is just a slow model."""
    fake_openai.push(Reply(text=SIX_WORDS, stall_after=2, stall_s=0.15))
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request())
    assert text_of(events) == SIX_WORDS and events[-1] == StreamEnd("stop")


async def test_stall_during_tool_call_deltas_is_an_error(fake_openai: FakeOpenAI) -> None:
    """Half a tool call then silence: nothing was shown, so ModelError('stalled')."""
    fake_openai.push(Reply(text="", tool_calls=(FakeToolCall("f", '{"a": 1}', pieces=4),),
                           stall_after=2, stall_s=5))
    async with provider_for(fake_openai) as provider:
        with pytest.raises(ModelError) as caught:
            await collect(provider, request())
    assert caught.value.kind == "stalled"


async def test_cut_connection_mid_answer_ends_interrupted_with_text_kept(
        fake_openai: FakeOpenAI) -> None:
    """The server drops the connection after four words: they stay, marked interrupted."""
    fake_openai.push(Reply(text=SIX_WORDS, cut_after=4))
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request())
    assert text_of(events) == "one two three four "
    assert events[-1] == StreamEnd("interrupted", "connection lost")
    assert isinstance(events[-2], Usage) and events[-2].estimated
    assert len(fake_openai.requests) == 1  # text was shown: no silent retry


async def test_cut_before_any_text_is_retried(fake_openai: FakeOpenAI) -> None:
    """A connection lost before the first token costs the user nothing: retried."""
    fake_openai.push(Reply(text=SIX_WORDS, cut_after=0), Reply(text="Second try."))
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request())
    assert text_of(events) == "Second try." and events[-1] == StreamEnd("stop")
    assert len(fake_openai.requests) == 2


async def test_body_ending_without_finish_reason_is_interrupted(
        fake_openai: FakeOpenAI) -> None:
    """A clean close with no finish_reason and no [DONE] is still a cut answer."""
    fake_openai.push(Reply(text=SIX_WORDS, send_finish=False, send_usage=False,
                           send_done=False))
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request())
    assert text_of(events) == SIX_WORDS
    assert events[-1] == StreamEnd("interrupted", "the stream ended before the answer did")


async def test_consumer_may_stop_early(fake_openai: FakeOpenAI) -> None:
    """Leaving the stream after the first delta closes it cleanly (e.g. the user cancelled)."""
    fake_openai.push(Reply(text=SIX_WORDS, tokens_per_second=20), Reply(text="next"))
    async with provider_for(fake_openai) as provider:
        stream = provider.stream_chat(request())
        async for _ in stream:
            break
        await stream.aclose()  # type: ignore[attr-defined]
        assert text_of(await collect(provider, request())) == "next"


async def test_malformed_chunk_mid_answer_ends_interrupted(fake_openai: FakeOpenAI) -> None:
    """A line that is not JSON after some text: the text stays, marked interrupted."""
    fake_openai.push(Reply(text=SIX_WORDS, garbage_after=2))
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request())
    assert text_of(events) == "one two "
    assert events[-1] == StreamEnd("interrupted", "malformed data from the AI service")


async def test_malformed_chunk_before_text_is_retried(fake_openai: FakeOpenAI) -> None:
    """Garbage before any text is a server error like a 500: retried."""
    fake_openai.push(Reply(text="x", garbage_after=0), Reply(text="clean"))
    async with provider_for(fake_openai) as provider:
        assert text_of(await collect(provider, request())) == "clean"


async def test_cut_after_the_finish_reason_keeps_a_complete_answer(
        fake_openai: FakeOpenAI) -> None:
    """Losing only the usage chunk and [DONE] is not an interruption: usage is estimated."""
    fake_openai.push(Reply(text=SIX_WORDS, cut_after_finish=True))
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request())
    assert text_of(events) == SIX_WORDS and events[-1] == StreamEnd("stop")
    assert isinstance(events[-2], Usage) and events[-2].estimated
    assert len(fake_openai.requests) == 1
