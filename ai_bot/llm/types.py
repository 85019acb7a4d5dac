"""The contract between the model layer and the Matrix side of the bot.

The Matrix side only ever sees these types: it asks a ``ModelProvider`` for a stream of
``StreamEvent`` and never touches the openai SDK directly, so providers can be swapped and
the streaming code can be tested with any source of events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    """A complete tool call the model asked for (arguments as the JSON text it produced)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ChatMessage:
    """One message of the prompt, in OpenAI chat format terms."""

    role: Role
    content: str | None
    name: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model: name, description and JSON-schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ModelInfo:
    """One entry of the model catalogue."""

    name: str
    context_window: int
    input_price_per_mtok: float
    output_price_per_mtok: float
    supports_tools: bool = True
    supports_vision: bool = False
    max_output_tokens: int = 4096


@dataclass(frozen=True)
class TextDelta:
    """More answer text."""

    text: str


@dataclass(frozen=True)
class ToolCallsReady:
    """The model finished a turn by asking for these tools (deltas already assembled)."""

    calls: tuple[ToolCall, ...]


@dataclass(frozen=True)
class Usage:
    """Token usage the endpoint reported for the call (or our estimate when it reported none)."""

    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False
    # The model that answered, when it is not the one requested (a fallback took over): settle
    # the cost at this model's price. "" means the requested model.
    model: str = ""


@dataclass(frozen=True)
class StreamEnd:
    """The stream finished; ``reason`` is the finish_reason, or why it was cut."""

    reason: Literal["stop", "length", "tool_calls", "content_filter", "interrupted"]
    detail: str = ""


StreamEvent = TextDelta | ToolCallsReady | Usage | StreamEnd


class ModelError(Exception):
    """A failure the user should hear about in one short, honest sentence."""

    def __init__(self, kind: str, user_message: str) -> None:
        super().__init__(user_message)
        self.kind = kind  # e.g. rate_limited, server_error, timeout, stalled, refused, network
        self.user_message = user_message


@dataclass(frozen=True)
class ChatRequest:
    """Everything one model call needs."""

    model: str
    messages: Sequence[ChatMessage]
    tools: Sequence[ToolSpec] = ()
    max_output_tokens: int = 1024
    extra: dict[str, Any] = field(default_factory=dict)


class ModelProvider(Protocol):
    """One interface per model provider (OpenAI-compatible today)."""

    def stream_chat(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Stream the answer; raise ``ModelError`` for failures before any text arrived."""
        ...
