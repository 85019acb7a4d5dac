"""The bot's own access token expires (here after a few seconds) and the bot renews it: it
keeps answering, and a restart with an expired token on disk answers too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from devtools.fake_openai import FakeOpenAI, Reply
from tests.harness.accounts import whoami
from tests.harness.ai_bot import RunningBot, ask, dm_ready
from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory
from tests.harness.server import Homeserver
from tests.harness.server_pool import ServerPool
from tests.integration.ai_bot.conftest import start_bot

pytestmark = pytest.mark.integration

# Only refreshable sessions (the bot's) get the short lifetime; other logins keep theirs.
SHORT_TOKENS = ("auth.refreshable_access_token_lifetime=4s",)


@pytest.fixture
def short_lived(server_pool: ServerPool, engine: str) -> Homeserver:
    return server_pool.get(engine, SHORT_TOKENS)


@pytest.fixture
def expiring_bot(short_lived: Homeserver, fake_model: FakeOpenAI,
                 tmp_path: Path) -> Iterator[RunningBot]:
    with ExitStack() as stack:
        yield start_bot(stack, short_lived, fake_model, tmp_path, localpart="aiexpiring")


def stored_token(bot: RunningBot) -> str:
    credentials = bot.process.config_file.parent / "state" / "credentials.json"
    return str(json.loads(credentials.read_text())["access_token"])


async def wait_expired(server: Homeserver, token: str) -> None:
    await eventually(lambda: whoami(server, token), lambda reply: reply.status == 401,
                     timeout=60, what="the bot's access token expiring")


async def test_ai_bot_answers_after_its_token_expired_and_after_restart(
    short_lived: Homeserver, expiring_bot: RunningBot, fake_model: FakeOpenAI
) -> None:
    """Answer, let the token expire, answer again; stop, let it expire, start, answer."""
    clients = ClientFactory(short_lived)
    try:
        bot = expiring_bot.user_id
        alice = await clients.user("alice")
        room_id, watcher = await dm_ready(alice, bot, fake_model, Reply(text="one"))
        _, first = await ask(alice, watcher, room_id, bot, "before expiry")
        assert [first.text(m) for m in first.messages] == ["one"]
        await wait_expired(short_lived, stored_token(expiring_bot))
        fake_model.push(Reply(text="two"))
        _, second = await ask(alice, watcher, room_id, bot, "after expiry")
        assert [second.text(m) for m in second.messages] == ["two"]

        expiring_bot.process.stop()
        await wait_expired(short_lived, stored_token(expiring_bot))
        expiring_bot.process.start()
        fake_model.push(Reply(text="three"))
        _, third = await ask(alice, watcher, room_id, bot, "after restart")
        assert [third.text(m) for m in third.messages] == ["three"]
    finally:
        await clients.close()
