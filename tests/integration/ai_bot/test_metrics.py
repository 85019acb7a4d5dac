"""The bot's own Prometheus endpoint: requests, tokens and cost by model, time to first token,
answer events sent and updates coalesced."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devtools.fake_openai import FakeOpenAI, Reply
from tests.harness.ai_bot import RunningBot, ask, dm_ready
from tests.harness.clients import ClientFactory

pytestmark = pytest.mark.integration

MODEL = {"model": "gpt-4o-mini"}


async def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the endpoint, by name and labels."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url)
    response.raise_for_status()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def delta(before: dict[tuple[str, frozenset[tuple[str, str]]], float],
          after: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_ai_bot_metrics_count_requests_tokens_cost_and_edits(
    clients: ClientFactory, bot_process: RunningBot, fake_model: FakeOpenAI
) -> None:
    """One streamed answer with known usage moves each metric by what that answer did."""
    bot = bot_process.user_id
    alice = await clients.user("alice")
    room_id, watcher = await dm_ready(
        alice, bot, fake_model, Reply(text=" ".join(f"w{i}" for i in range(40)),
                                      tokens_per_second=40, prompt_tokens=1000,
                                      completion_tokens=400))
    before = await scrape(bot_process.metrics_url)
    _, answer = await ask(alice, watcher, room_id, bot, "count to forty")
    assert answer.complete()
    after = await scrape(bot_process.metrics_url)

    assert delta(before, after, "hearth_ai_model_requests_total", **MODEL, outcome="ok") == 1
    assert delta(before, after, "hearth_ai_model_tokens_total", **MODEL, kind="prompt") == 1000
    assert delta(before, after, "hearth_ai_model_tokens_total", **MODEL,
                 kind="completion") == 400
    cost = delta(before, after, "hearth_ai_cost_usd_total", **MODEL)
    assert cost == pytest.approx((1000 * 0.15 + 400 * 0.60) / 1e6)
    assert delta(before, after, "hearth_ai_time_to_first_token_seconds_count", **MODEL) == 1
    assert delta(before, after, "hearth_ai_time_to_first_event_seconds_count") == 1
    assert delta(before, after, "hearth_ai_answer_events_total", kind="first") == 1
    assert delta(before, after, "hearth_ai_answer_events_total", kind="final") == 1
    edits = delta(before, after, "hearth_ai_answer_events_total", kind="edit")
    assert edits >= 1 and edits == len(answer.events) - 2
    # 40 words streamed in about a second, edited at most every 0.3 s: most were folded.
    coalesced = delta(before, after, "hearth_ai_edits_coalesced_total")
    assert coalesced >= 40 - len(answer.events)
