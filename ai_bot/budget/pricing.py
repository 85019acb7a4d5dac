"""What a model call costs: the estimate held before it, the real figure after.

The estimate assumes the longest answer the call may produce, so a reservation never holds
less than the call can cost (barring a prompt estimate that is low for non-OpenAI models);
settlement then replaces it with the usage the endpoint reported.
"""

from __future__ import annotations

from hearth.ai_bot.llm.tokens import counter_for
from hearth.ai_bot.llm.types import ChatRequest, ModelInfo, Usage

_PER_TOKEN = 1 / 1_000_000


def cost_usd(model: ModelInfo, prompt_tokens: int, completion_tokens: int) -> float:
    """Price of a number of input and output tokens at the model's list price."""
    return (prompt_tokens * model.input_price_per_mtok
            + completion_tokens * model.output_price_per_mtok) * _PER_TOKEN


def max_output_tokens(model: ModelInfo, request: ChatRequest) -> int:
    """The most the call can produce: what it asks for, capped by what the model allows."""
    return min(request.max_output_tokens, model.max_output_tokens)


def estimate_usd(model: ModelInfo, prompt_tokens: int, max_output: int) -> float:
    """The amount to reserve: the prompt plus the longest possible answer."""
    return cost_usd(model, prompt_tokens, max_output)


def estimate_request_usd(model: ModelInfo, request: ChatRequest) -> float:
    """The amount to reserve for ``request``, counting its prompt with the model's tokenizer."""
    prompt = counter_for(model.name).count_messages(request.messages, request.tools)
    return estimate_usd(model, prompt, max_output_tokens(model, request))


def actual_usd(model: ModelInfo, usage: Usage) -> float:
    """What the call cost according to its usage (pass the model that answered)."""
    return cost_usd(model, usage.prompt_tokens, usage.completion_tokens)
