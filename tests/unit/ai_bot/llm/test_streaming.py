"""Streaming from an OpenAI-compatible endpoint over real HTTP: text, tool calls, usage."""

from __future__ import annotations

import json
import time

from devtools.fake_openai import FakeOpenAI, FakeToolCall, Reply
from hearth.ai_bot.llm.types import (
    ChatMessage,
    ChatRequest,
    StreamEnd,
    TextDelta,
    ToolCall,
    ToolCallsReady,
    ToolSpec,
    Usage,
)
from tests.unit.ai_bot.llm.support import collect, provider_for, request, text_of

WEATHER = ToolSpec("get_weather", "Current weather in a city",
                   {"type": "object", "properties": {"city": {"type": "string"}},
                    "required": ["city"]})


async def test_stream_text_arrives_in_order_then_usage_and_end(fake_openai: FakeOpenAI) -> None:
    """Text deltas in order, then the endpoint's usage, then StreamEnd('stop')."""
    fake_openai.push(Reply(text="The quick brown fox jumps.", prompt_tokens=42,
                           completion_tokens=7))
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request("Tell me about foxes", max_output_tokens=300))
    assert text_of(events) == "The quick brown fox jumps."
    assert all(isinstance(e, TextDelta) for e in events[:-2])
    assert events[-2:] == [Usage(42, 7), StreamEnd("stop")]
    sent = fake_openai.requests[0]
    assert sent.body["stream"] is True
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.max_tokens == 300 and "max_completion_tokens" not in sent.body
    assert sent.messages == [{"role": "user", "content": "Tell me about foxes"}]
    assert sent.headers["authorization"] == "Bearer test-key"


async def test_stream_paced_chunks_arrive_as_they_are_sent(fake_openai: FakeOpenAI) -> None:
    """At 40 tokens/s the first word arrives long before the last: nothing is buffered."""
    fake_openai.push(Reply(text="one two three four five six seven eight nine ten",
                           tokens_per_second=40))
    arrivals: list[float] = []
    async with provider_for(fake_openai) as provider:
        async for event in provider.stream_chat(request()):
            if isinstance(event, TextDelta):
                arrivals.append(time.monotonic())
    assert len(arrivals) == 10
    assert arrivals[-1] - arrivals[0] >= 0.18  # nine gaps of 25 ms


async def test_tool_call_deltas_are_assembled_into_whole_calls(fake_openai: FakeOpenAI) -> None:
    """Two calls whose arguments arrive in pieces come out whole, in order, once."""
    fake_openai.push(Reply(text="", tool_calls=(
        FakeToolCall("get_weather", '{"city": "Paris", "unit": "celsius"}', id="call_a",
                     pieces=5),
        FakeToolCall("get_weather", '{"city": "Tromsø"}', id="call_b", pieces=3),
    )))
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request("Weather?", tools=[WEATHER]))
    ready = [e for e in events if isinstance(e, ToolCallsReady)]
    assert ready == [ToolCallsReady((
        ToolCall("call_a", "get_weather", '{"city": "Paris", "unit": "celsius"}'),
        ToolCall("call_b", "get_weather", '{"city": "Tromsø"}'),
    ))]
    assert json.loads(ready[0].calls[1].arguments) == {"city": "Tromsø"}
    assert events[-1] == StreamEnd("tool_calls")
    assert fake_openai.requests[0].tools == [{
        "type": "function",
        "function": {"name": "get_weather", "description": "Current weather in a city",
                     "parameters": WEATHER.parameters},
    }]


async def test_tool_results_are_sent_back_in_wire_format(fake_openai: FakeOpenAI) -> None:
    """An assistant tool-call turn and its tool result go out as the API expects them."""
    chat = ChatRequest(model="gpt-4o", messages=[
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "Weather in Paris?", name="alice"),
        ChatMessage("assistant", None,
                    tool_calls=(ToolCall("call_1", "get_weather", '{"city":"Paris"}'),)),
        ChatMessage("tool", '{"temp_c": 21}', tool_call_id="call_1"),
    ])
    async with provider_for(fake_openai) as provider:
        await collect(provider, chat)
    assert fake_openai.requests[0].messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?", "name": "alice"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "content": '{"temp_c": 21}', "tool_call_id": "call_1"},
    ]


async def test_usage_is_estimated_when_the_endpoint_sends_none(fake_openai: FakeOpenAI) -> None:
    """Without a usage chunk, Usage comes from our token count and says it is an estimate."""
    fake_openai.push(Reply(text="Hello there, friend.", send_usage=False))
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request("Hi"))
    usage = events[-2]
    # o200k_base: "Hello there, friend." is 5 tokens; the prompt is 3 + (1 + 1) + 3.
    assert usage == Usage(prompt_tokens=8, completion_tokens=5, estimated=True)


async def test_servers_without_include_usage_are_not_sent_it(fake_openai: FakeOpenAI) -> None:
    """include_usage: false leaves stream_options out (old servers refuse it)."""
    async with provider_for(fake_openai, include_usage=False,
                            max_tokens_field="max_completion_tokens") as provider:
        events = await collect(provider, request(max_output_tokens=77))
    sent = fake_openai.requests[0].body
    assert "stream_options" not in sent
    assert sent["max_completion_tokens"] == 77 and "max_tokens" not in sent
    assert isinstance(events[-2], Usage) and events[-2].estimated


async def test_finish_reason_length_is_passed_on(fake_openai: FakeOpenAI) -> None:
    """An answer cut by max_tokens ends with StreamEnd('length'), not 'stop'."""
    fake_openai.push(Reply(text="A long answer that", finish_reason="length"))
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request())
    assert events[-1] == StreamEnd("length")


async def test_extra_parameters_reach_the_request_body(fake_openai: FakeOpenAI) -> None:
    """ChatRequest.extra (temperature, user, ...) is merged into the JSON body."""
    async with provider_for(fake_openai) as provider:
        await collect(provider, request(extra={"temperature": 0.2, "user": "hash-of-alice"}))
    body = fake_openai.requests[0].body
    assert body["temperature"] == 0.2 and body["user"] == "hash-of-alice"


async def test_tool_calls_without_index_are_told_apart_by_id(fake_openai: FakeOpenAI) -> None:
    """Servers that send each call whole and without an index still give two calls."""
    fake_openai.push(Reply(text="", tool_call_index=False, tool_calls=(
        FakeToolCall("a", '{"x": 1}', id="call_1"), FakeToolCall("b", "{}", id="call_2"))))
    async with provider_for(fake_openai) as provider:
        events = await collect(provider, request())
    assert ToolCallsReady((ToolCall("call_1", "a", '{"x": 1}'),
                           ToolCall("call_2", "b", "{}"))) in events


async def test_configured_headers_and_query_are_sent(fake_openai: FakeOpenAI) -> None:
    """Endpoint headers and query (e.g. Azure's api-version) go with every request."""
    async with provider_for(fake_openai, headers={"X-Team": "hearth"},
                            query={"api-version": "2024-10-21"}) as provider:
        await collect(provider, request())
    sent = fake_openai.requests[0]
    assert sent.headers["x-team"] == "hearth" and sent.query == {"api-version": "2024-10-21"}
