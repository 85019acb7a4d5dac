"""A 🔁 from another member than the asker is that member's request: it is checked against
the reactor's role and budget and charged to the reactor, never to the original asker."""

from __future__ import annotations

import pytest

from devtools.fake_openai import FakeOpenAI, Reply
from hearth.ai_bot import strings
from tests.harness.ai_bot import (
    RunningBot,
    ask,
    collect_answer,
    group_ready,
    react,
    watch_redone,
)
from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory
from tests.harness.roles import set_role
from tests.harness.server import Homeserver
from tests.harness.sync import SyncWatcher
from tests.integration.ai_bot.test_budget import reservations

pytestmark = pytest.mark.integration


async def test_ai_bot_regenerate_by_other_member_charges_the_reactor(
    clients: ClientFactory, bot_process: RunningBot, fake_model: FakeOpenAI
) -> None:
    """Bob's 🔁 on the answer to Alice's question redoes it at Bob's cost."""
    bot, ledger = bot_process.user_id, bot_process.ledger_url
    alice, bob = await clients.user("alice"), await clients.user("bob")
    room_id = await group_ready(alice, bob, bot, fake_model, Reply(text="first"))
    watcher = SyncWatcher(alice.client)
    await watcher.prime()
    _, answer = await ask(alice, watcher, room_id, bot, "Hearth AI: a question")
    (answer_id,) = answer.messages
    assert len(await reservations(ledger, alice.user_id)) == 1
    fake_model.push(Reply(text="second"))
    await react(bob, room_id, answer_id, "🔁")
    redone = await watch_redone(watcher, room_id, bot, answer_id)
    assert redone.finals_of(answer_id) == ["second"]
    assert len(await reservations(ledger, alice.user_id)) == 1
    await eventually(lambda: reservations(ledger, bob.user_id),
                     lambda rows: [state for state, *_ in rows] == ["settled"],
                     what="Bob's reservation settled")


@pytest.mark.parametrize("role", ["guest", "limited"])
async def test_ai_bot_regenerate_by_member_without_allowance_is_refused(
    clients: ClientFactory, homeserver: Homeserver, bot_process: RunningBot,
    fake_model: FakeOpenAI, role: str,
) -> None:
    """A 🔁 from a role without AI, or whose dollar budget is spent, gets a refusal notice;
    the model is not asked and the asker is not charged."""
    bot, ledger = bot_process.user_id, bot_process.ledger_url
    alice, bob = await clients.user("alice"), await clients.user("bob")
    room_id = await group_ready(alice, bob, bot, fake_model, Reply(text="first"))
    await set_role(homeserver, bob.user_id, role)
    watcher = SyncWatcher(alice.client)
    await watcher.prime()
    _, answer = await ask(alice, watcher, room_id, bot, "Hearth AI: a question")
    (answer_id,) = answer.messages
    fake_model.reset()
    await react(bob, room_id, answer_id, "🔁")
    (notice,) = await collect_answer(watcher, room_id, bot, answer_id)
    assert notice["content"]["msgtype"] == "m.notice"
    expected = (strings.NOT_ALLOWED if role == "guest"
                else "That request would exceed your daily AI budget ($0.00, $0.0000 left).")
    assert notice["content"]["body"] == expected
    assert fake_model.requests == []
    assert len(await reservations(ledger, alice.user_id)) == 1
    assert await reservations(ledger, bob.user_id) == []
