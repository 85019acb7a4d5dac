"""Budgets: the cost is reserved before the model call and settled after it at the model's
catalogue price for the usage the endpoint reported; a request over budget is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from devtools.fake_openai import FakeOpenAI, Reply
from hearth.ai_bot.budget.db import open_database
from tests.harness.accounts import call
from tests.harness.ai_bot import RunningBot, ask, dm_ready
from tests.harness.calls import eventually, seg
from tests.harness.clients import ClientFactory
from tests.harness.server import Homeserver

pytestmark = pytest.mark.integration

# gpt-4o-mini's list price: $0.15 per million input tokens, $0.60 per million output tokens.
PROMPT_TOKENS, COMPLETION_TOKENS = 12_000, 3_000
EXPECTED_NANO = PROMPT_TOKENS * 150 + COMPLETION_TOKENS * 600  # nano-dollars: $0.0036


async def reservations(ledger_url: str, user_id: str) -> list[tuple[Any, ...]]:
    """(state, held_nano, actual_nano, model) of the user's reservations."""
    db = await open_database(ledger_url)
    try:
        return await db.run(lambda txn: txn.all(
            "SELECT state, held_nano, actual_nano, model FROM ai_budget_reservations "
            "WHERE user_id = ?", (user_id,)))
    finally:
        await db.close()


async def spent_today(ledger_url: str, user_id: str) -> int:
    db = await open_database(ledger_url)
    try:
        rows = await db.run(lambda txn: txn.all(
            "SELECT spent_nano FROM ai_budget_totals WHERE scope = 'user' AND subject = ? "
            "AND period = 'day'", (user_id,)))
    finally:
        await db.close()
    return sum(int(row[0]) for row in rows)


async def test_ai_bot_spend_settled_at_catalogue_price(
    clients: ClientFactory, bot_process: RunningBot, fake_model: FakeOpenAI
) -> None:
    """While the model answers an estimate is held; afterwards the ledger records exactly the
    reported usage at gpt-4o-mini's price."""
    bot, ledger = bot_process.user_id, bot_process.ledger_url
    alice = await clients.user("alice")
    room_id, watcher = await dm_ready(
        alice, bot, fake_model, Reply(text="Priced answer.", first_chunk_delay_s=1.5,
                                      prompt_tokens=PROMPT_TOKENS,
                                      completion_tokens=COMPLETION_TOKENS))
    answering = asyncio.ensure_future(ask(alice, watcher, room_id, bot, "what does it cost?"))

    async def model_calls() -> int:
        return len(fake_model.requests)

    await eventually(model_calls, bool, what="the model call")  # it then waits 1.5 s
    held = await reservations(ledger, alice.user_id)
    assert [(state, model) for state, _, _, model in held] == [("held", "gpt-4o-mini")]
    assert held[0][1] > 0 and await spent_today(ledger, alice.user_id) == held[0][1]
    _, answer = await answering
    assert [answer.text(m) for m in answer.messages] == ["Priced answer."]
    settled = await reservations(ledger, alice.user_id)
    assert settled == [("settled", held[0][1], EXPECTED_NANO, "gpt-4o-mini")]
    assert await spent_today(ledger, alice.user_id) == EXPECTED_NANO


async def test_ai_bot_over_budget_request_is_refused(
    clients: ClientFactory, homeserver: Homeserver, bot_process: RunningBot,
    fake_model: FakeOpenAI
) -> None:
    """A role whose daily budget is spent gets the ledger's refusal sentence, not an answer."""
    bot = bot_process.user_id
    user = await clients.user("limited")
    reply = await call(homeserver, "PUT",
                       "/_synapse/client/hearth/v1/admin/roles/assignments/" + seg(user.user_id),
                       {"role": "limited"}, token=homeserver.admin["access_token"])
    assert reply.status == 200, reply
    room_id, watcher = await dm_ready(user, bot, fake_model)
    _, answer = await ask(user, watcher, room_id, bot, "hello")
    (message,) = answer.messages
    assert answer.shown[message]["msgtype"] == "m.notice"
    assert answer.text(message) == (
        "That request would exceed your daily AI budget ($0.00, $0.0000 left).")
    assert fake_model.requests == []
    assert await reservations(bot_process.ledger_url, user.user_id) == []
