"""Cost figures: the estimate held before a call and the actual cost after it."""

from __future__ import annotations

import pytest

from hearth.ai_bot.budget.pricing import (
    actual_usd,
    cost_usd,
    estimate_request_usd,
    estimate_usd,
    max_output_tokens,
)
from hearth.ai_bot.llm.catalogue import Catalogue
from hearth.ai_bot.llm.types import ChatMessage, ChatRequest, Usage

CATALOGUE = Catalogue.load()


def test_cost_is_tokens_times_price_per_million() -> None:
    """gpt-4o: 1M input tokens $2.50, 1M output $10; 1,000 + 500 tokens cost $0.0075."""
    gpt4o = CATALOGUE.get("gpt-4o")
    assert cost_usd(gpt4o, 1_000_000, 0) == pytest.approx(2.50)
    assert cost_usd(gpt4o, 0, 1_000_000) == pytest.approx(10.00)
    assert cost_usd(gpt4o, 1_000, 500) == pytest.approx(0.0075)


def test_estimate_assumes_the_longest_answer() -> None:
    """The hold is prompt plus max output, which caps at the model's own output limit."""
    mini = CATALOGUE.get("gpt-4o-mini")
    assert estimate_usd(mini, 2_000, 1_024) == pytest.approx(
        (2_000 * 0.15 + 1_024 * 0.60) / 1_000_000)
    greedy = ChatRequest(model="gpt-4o-mini", messages=[], max_output_tokens=100_000)
    assert max_output_tokens(mini, greedy) == 16_384


def test_request_estimate_counts_the_prompt_with_tiktoken() -> None:
    """'Hello world' as one user message is 9 prompt tokens for gpt-4o."""
    gpt4o = CATALOGUE.get("gpt-4o")
    chat = ChatRequest(model="gpt-4o", messages=[ChatMessage("user", "Hello world")],
                       max_output_tokens=100)
    assert estimate_request_usd(gpt4o, chat) == pytest.approx((9 * 2.50 + 100 * 10.0) / 1e6)


def test_actual_cost_comes_from_usage() -> None:
    """Settlement uses the reported (or estimated) usage at the answering model's price."""
    assert actual_usd(CATALOGUE.get("gpt-4.1-mini"), Usage(10_000, 2_000)) == pytest.approx(
        (10_000 * 0.40 + 2_000 * 1.60) / 1e6)
