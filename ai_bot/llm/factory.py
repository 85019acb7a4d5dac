"""Builds the bot's model provider from the ``model:`` settings."""

from __future__ import annotations

from hearth.ai_bot.llm.config import ModelSettings
from hearth.ai_bot.llm.fallback import FallbackProvider
from hearth.ai_bot.llm.openai_provider import OpenAIProvider
from hearth.ai_bot.llm.types import ModelProvider


def build_provider(settings: ModelSettings) -> ModelProvider:
    """The endpoint's provider, wrapped with the fallback model when one is configured."""
    primary = OpenAIProvider(settings.endpoint)
    fallback = settings.fallback
    if fallback.model is None:
        return primary
    backup = primary if fallback.endpoint is None else OpenAIProvider(fallback.endpoint)
    return FallbackProvider(primary, backup, fallback.model,
                            failure_threshold=fallback.failure_threshold, open_s=fallback.open_s)
