"""Settings of the model layer: the endpoint, timeouts, retries, fallback and extra models.

Parsed once from the ``model:`` section of the bot config into frozen objects; a bad value is
refused with the path of the key (``Error in configuration at 'model.timeouts.stall_s'``).
The openai SDK's own ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` are enough for the endpoint:
the config values win only when given.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

# Synapse's ConfigError, the one config error of the project; named here for the model layer.
from hearth.configuration.errors import ConfigError as ConfigError
from hearth.configuration.module_config import FrozenConfig, parse_module_config


class TimeoutSettings(FrozenConfig):
    """How long to wait, in seconds, before a call counts as failed."""

    connect_s: float = Field(default=10.0, gt=0)
    # From sending the request to the first text or tool-call delta.
    first_token_s: float = Field(default=60.0, gt=0)
    # Longest silence between two chunks once the answer is flowing.
    stall_s: float = Field(default=30.0, gt=0)


class RetrySettings(FrozenConfig):
    """Retries of 429/5xx and connection failures, only before anything reached the user."""

    max_attempts: int = Field(default=4, ge=1, le=10)
    base_delay_s: float = Field(default=0.5, ge=0)
    max_delay_s: float = Field(default=20.0, ge=0)
    # A Retry-After longer than this is not waited for: the user is told when to try again.
    max_retry_after_s: float = Field(default=60.0, ge=0)


class EndpointSettings(FrozenConfig):
    """One OpenAI-compatible endpoint (OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp, LiteLLM)."""

    # None: OPENAI_BASE_URL, else https://api.openai.com/v1.
    base_url: str | None = Field(default=None, pattern=r"^https?://")
    # None: OPENAI_API_KEY. Local servers that need no key may leave both unset.
    api_key: str | None = None
    api_key_path: Path | None = None
    # Ask for the final usage chunk (stream_options.include_usage); some old servers refuse it.
    include_usage: bool = True
    # OpenAI's newer models want max_completion_tokens; most compatible servers max_tokens.
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    # Sent with every request: e.g. Azure's older ``api-version`` query or a proxy's headers.
    # (Azure OpenAI's v1 API needs neither: base_url https://NAME.openai.azure.com/openai/v1/.)
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str] = Field(default_factory=dict)
    timeouts: TimeoutSettings = TimeoutSettings()
    retry: RetrySettings = RetrySettings()

    @model_validator(mode="after")
    def _one_key_source(self) -> EndpointSettings:
        if self.api_key is not None and self.api_key_path is not None:
            raise ValueError("give api_key or api_key_path, not both")
        return self

    def resolved_api_key(self) -> str | None:
        """The key from the config or its file; None lets the SDK read OPENAI_API_KEY."""
        if self.api_key_path is not None:
            return self.api_key_path.read_text(encoding="utf-8").strip()
        return self.api_key


class FallbackSettings(FrozenConfig):
    """The model to use while the primary keeps failing (a circuit breaker decides)."""

    model: str | None = None
    # None: the primary's endpoint.
    endpoint: EndpointSettings | None = None
    failure_threshold: int = Field(default=3, ge=1)
    open_s: float = Field(default=60.0, gt=0)


class ModelSettings(FrozenConfig):
    """The ``model:`` section of the bot config."""

    default: str = "gpt-4o"
    endpoint: EndpointSettings = EndpointSettings()
    fallback: FallbackSettings = FallbackSettings()
    # Extra models, or overrides of the built-in entries (see catalogue.py), by name.
    catalogue: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None, path: str = "model") -> ModelSettings:
        """Validate the raw mapping from the bot config, naming the key on error."""
        return parse_module_config(cls, raw, path)
