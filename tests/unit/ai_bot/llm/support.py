"""Shared helpers of the model-layer tests: a provider pointed at the fake server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from devtools.fake_openai import FakeOpenAI
from hearth.ai_bot.llm.config import EndpointSettings
from hearth.ai_bot.llm.openai_provider import OpenAIProvider
from hearth.ai_bot.llm.types import ChatMessage, ChatRequest, ModelError, StreamEvent, TextDelta

# Short limits so failure tests take fractions of a second.
FAST = {
    "timeouts": {"connect_s": 1.0, "first_token_s": 1.0, "stall_s": 0.4},
    "retry": {"max_attempts": 3, "base_delay_s": 0.01, "max_delay_s": 0.05,
              "max_retry_after_s": 2.0},
}


def settings_for(server: FakeOpenAI, **changes: Any) -> EndpointSettings:
    """Endpoint settings for the fake server, with FAST limits merged with ``changes``."""
    raw: dict[str, Any] = {"base_url": server.base_url, "api_key": "test-key"}
    for key, value in FAST.items():
        raw[key] = {**value, **changes.pop(key, {})}
    return EndpointSettings.model_validate({**raw, **changes})


def request(text: str = "Hello?", **changes: Any) -> ChatRequest:
    """A one-message request for gpt-4o."""
    return ChatRequest(model=changes.pop("model", "gpt-4o"),
                       messages=[ChatMessage("user", text)], **changes)


async def collect(provider: OpenAIProvider, chat: ChatRequest) -> list[StreamEvent]:
    """All events of one call."""
    return [event async for event in provider.stream_chat(chat)]


def text_of(events: list[StreamEvent]) -> str:
    """The answer text the events carried."""
    return "".join(event.text for event in events if isinstance(event, TextDelta))


@asynccontextmanager
async def provider_for(server: FakeOpenAI, **changes: Any) -> AsyncIterator[OpenAIProvider]:
    """A provider for the fake server, closed afterwards."""
    provider = OpenAIProvider(settings_for(server, **changes))
    try:
        yield provider
    finally:
        await provider.aclose()


async def failure_of(server: FakeOpenAI, chat: ChatRequest | None = None) -> ModelError:
    """The error one call to the fake server ends with (the test fails if it answers)."""
    async with provider_for(server) as provider:
        with pytest.raises(ModelError) as caught:
            await collect(provider, chat or request())
    return caught.value
