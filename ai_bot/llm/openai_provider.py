"""``ModelProvider`` for any OpenAI-compatible endpoint, through the openai SDK's async client.

One call streams with ``stream_options.include_usage``; tool-call deltas are assembled into
whole calls; a call that fails before anything reached the user is retried (429/5xx/network,
honouring Retry-After) by us alone — the SDK's own retries are off so there is one schedule to
reason about and test. Once text has flowed a failure cannot be hidden: the stream ends with
``StreamEnd("interrupted")`` so the Matrix side can mark the answer as cut, never silently
truncated.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, cast

import openai
from openai.types.chat import (
    ChatCompletionChunk,
    ChatCompletionMessageParam,
    ChatCompletionToolParam,
)
from openai.types.completion_usage import CompletionUsage

from hearth.ai_bot.llm import errors
from hearth.ai_bot.llm.assemble import ToolCallAssembler
from hearth.ai_bot.llm.config import ConfigError, EndpointSettings
from hearth.ai_bot.llm.errors import Failure
from hearth.ai_bot.llm.retry import RetryPolicy
from hearth.ai_bot.llm.tokens import counter_for
from hearth.ai_bot.llm.types import (
    ChatMessage,
    ChatRequest,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallsReady,
    ToolSpec,
    Usage,
)
from hearth.ai_bot.metrics import (
    MODEL_ERRORS,
    MODEL_REQUESTS,
    MODEL_RETRIES,
    MODEL_TOKENS,
    TIME_TO_FIRST_TOKEN,
)

logger = logging.getLogger(__name__)

_FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool_calls",
           "function_call": "tool_calls", "content_filter": "content_filter"}


class _AttemptFailed(Exception):
    """An attempt failed before anything was yielded, so the caller may still retry."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.error.kind)
        self.failure = failure


def make_client(settings: EndpointSettings) -> openai.AsyncOpenAI:
    """The SDK client: our timeouts, no SDK retries, key and URL from config or environment."""
    timeouts = settings.timeouts
    # The read timeout is only a backstop: first-token and stall limits are enforced per chunk.
    read_s = max(timeouts.first_token_s, timeouts.stall_s) + 5
    api_key = settings.resolved_api_key()
    if api_key is None and not os.environ.get("OPENAI_API_KEY") and (
        settings.base_url or os.environ.get("OPENAI_BASE_URL")
    ):
        api_key = "no-key"  # local servers (Ollama, llama.cpp, vLLM) take any key
    try:
        return openai.AsyncOpenAI(
            api_key=api_key, base_url=settings.base_url, max_retries=0,
            default_headers=settings.headers or None, default_query=settings.query or None,
            timeout=openai.Timeout(connect=timeouts.connect_s, read=read_s, write=30.0,
                                   pool=timeouts.connect_s),
        )
    except openai.OpenAIError as exc:
        raise ConfigError(
            "No API key for the model endpoint: set OPENAI_API_KEY, or model.endpoint.api_key "
            f"(or api_key_path) in the bot config ({exc})"
        ) from None


class OpenAIProvider:
    """Streams chat completions from one endpoint."""

    def __init__(
        self, settings: EndpointSettings | None = None, *,
        client: openai.AsyncOpenAI | None = None, retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings or EndpointSettings()
        self._client = client or make_client(self._settings)
        self._retry = retry or RetryPolicy(self._settings.retry)
        self._sleep = sleep
        self._clock = clock

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    def stream_chat(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Text deltas, then the tool calls if any, the usage and the end; see the module doc."""
        return self._stream(request)

    async def _stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        failures = 0
        while True:
            try:
                async for event in self._attempt(request):
                    yield event
                return
            except _AttemptFailed as failed:
                failure = failed.failure
                failures += 1
                wait = (self._retry.delay(failures, failure.retry_after_s)
                        if failure.retryable else None)
                if wait is None:
                    MODEL_ERRORS.labels(request.model, failure.error.kind).inc()
                    MODEL_REQUESTS.labels(request.model, "error").inc()
                    raise failure.error from None
                MODEL_RETRIES.labels(request.model, failure.error.kind).inc()
                logger.info("Model call to %s failed (%s); retry %d in %.2fs", request.model,
                            failure.error.kind, failures, wait)
                await self._sleep(wait)

    async def _open(self, request: ChatRequest) -> openai.AsyncStream[ChatCompletionChunk]:
        max_tokens: dict[str, int] = {self._settings.max_tokens_field: request.max_output_tokens}
        return await self._client.chat.completions.create(
            model=request.model,
            messages=to_openai_messages(request.messages),
            tools=to_openai_tools(request.tools) if request.tools else openai.omit,
            stream=True,
            stream_options=({"include_usage": True} if self._settings.include_usage
                            else openai.omit),
            extra_body={**max_tokens, **request.extra},
        )

    async def _attempt(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """One HTTP call. Raises _AttemptFailed only while nothing has been yielded."""
        limits = self._settings.timeouts
        sent = self._clock()
        try:
            stream = await asyncio.wait_for(self._open(request), limits.first_token_s)
        except TimeoutError:
            raise _AttemptFailed(Failure(errors.timeout(limits.first_token_s), False)) from None
        except openai.OpenAIError as exc:
            raise _AttemptFailed(errors.classify(exc, request.model)) from None

        text: list[str] = []
        calls = ToolCallAssembler()
        finish: str | None = None
        usage: CompletionUsage | None = None
        first_at: float | None = None
        try:
            while True:
                if first_at is None:
                    wait = limits.first_token_s - (self._clock() - sent)
                else:
                    wait = limits.stall_s
                try:
                    chunk = await asyncio.wait_for(anext(stream), max(wait, 0.001))
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    if finish is not None:  # the answer was complete; only usage is missing
                        break
                    if text:
                        for event in self._interrupted(
                                request, text, "stalled",
                                f"no data for {limits.stall_s:g} seconds"):
                            yield event
                        return
                    error = (errors.timeout(limits.first_token_s) if first_at is None
                             else errors.stalled(limits.stall_s))
                    raise _AttemptFailed(Failure(error, False)) from None
                except openai.OpenAIError as exc:  # connection cut or an error event
                    if finish is not None:
                        break
                    if text:
                        logger.info("Stream from %s failed: %r", request.model, exc)
                        for event in self._interrupted(request, text, "network",
                                                       "connection lost"):
                            yield event
                        return
                    raise _AttemptFailed(errors.classify(exc, request.model)) from None
                except ValueError as exc:  # a chunk that is not JSON: a broken server or proxy
                    logger.warning("Malformed stream from %s: %s", request.model, exc)
                    if finish is not None:
                        break
                    if text:
                        for event in self._interrupted(request, text, "server_error",
                                                       "malformed data from the AI service"):
                            yield event
                        return
                    raise _AttemptFailed(Failure(errors.server_error(), True)) from None
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    if choice.index != 0:
                        continue
                    delta = choice.delta
                    if (delta.content or delta.tool_calls) and first_at is None:
                        first_at = self._clock()
                        TIME_TO_FIRST_TOKEN.labels(request.model).observe(first_at - sent)
                    for tool_delta in delta.tool_calls or ():
                        function = tool_delta.function
                        calls.add(getattr(tool_delta, "index", None), tool_delta.id,
                                  function.name if function else None,
                                  function.arguments if function else None)
                    if delta.content:
                        text.append(delta.content)
                        yield TextDelta(delta.content)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        finally:
            await stream.close()

        if finish is None:  # the body ended without a finish reason: the answer is cut
            if text:
                for event in self._interrupted(request, text, "network",
                                               "the stream ended before the answer did"):
                    yield event
                return
            raise _AttemptFailed(Failure(errors.network(), True))
        assembled = calls.calls() if calls else ()
        if assembled:
            yield ToolCallsReady(assembled)
        yield self._usage(request, usage, text, assembled)
        reason = "tool_calls" if assembled else _FINISH.get(finish, "stop")
        MODEL_REQUESTS.labels(request.model, "ok").inc()
        yield StreamEnd(cast(Any, reason))

    def _interrupted(self, request: ChatRequest, text: Sequence[str], kind: str,
                     detail: str) -> list[StreamEvent]:
        logger.warning("Model stream from %s interrupted after %d chunks: %s", request.model,
                       len(text), detail)
        MODEL_ERRORS.labels(request.model, kind).inc()
        MODEL_REQUESTS.labels(request.model, "interrupted").inc()
        return [self._usage(request, None, text, ()), StreamEnd("interrupted", detail)]

    def _usage(self, request: ChatRequest, reported: CompletionUsage | None,
               text: Sequence[str], calls: Sequence[ToolCall]) -> Usage:
        """The endpoint's usage, or our count of what was sent and received."""
        if reported is not None:
            usage = Usage(reported.prompt_tokens, reported.completion_tokens)
        else:
            counter = counter_for(request.model)
            completion = counter.count("".join(text)) + sum(
                counter.count(call.name) + counter.count(call.arguments) for call in calls)
            usage = Usage(counter.count_messages(request.messages, request.tools), completion,
                          estimated=True)
        MODEL_TOKENS.labels(request.model, "prompt").inc(usage.prompt_tokens)
        MODEL_TOKENS.labels(request.model, "completion").inc(usage.completion_tokens)
        return usage


def to_openai_messages(messages: Sequence[ChatMessage]) -> list[ChatCompletionMessageParam]:
    """Our messages in the chat-completions wire format."""
    wire: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.name:
            item["name"] = message.name
        if message.tool_calls:
            item["tool_calls"] = [
                {"id": call.id, "type": "function",
                 "function": {"name": call.name, "arguments": call.arguments}}
                for call in message.tool_calls
            ]
        if message.tool_call_id:
            item["tool_call_id"] = message.tool_call_id
        wire.append(item)
    return cast(list[ChatCompletionMessageParam], wire)


def to_openai_tools(tools: Sequence[ToolSpec]) -> list[ChatCompletionToolParam]:
    """Our tool specs as function tools."""
    return [
        {"type": "function",
         "function": {"name": tool.name, "description": tool.description,
                      "parameters": tool.parameters}}
        for tool in tools
    ]
