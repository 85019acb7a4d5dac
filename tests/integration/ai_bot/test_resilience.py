"""The bot survives a Synapse restart in the middle of an answer (its own homeserver)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mautrix.types import EventType

from devtools.fake_openai import FakeOpenAI, Reply
from tests.harness.ai_bot import (
    LIVE,
    BotProcess,
    bot_config,
    bot_events,
    bot_user_id,
    dm_with_bot,
    write_config,
)
from tests.harness.clients import ClientFactory
from tests.harness.postgres import database_for
from tests.harness.server import Homeserver, make_homeserver
from tests.harness.sync import SyncWatcher

pytestmark = pytest.mark.integration

ANSWER = " ".join(f"w{i}" for i in range(70))


@pytest.fixture(params=["sqlite", "postgres"])
def own_server(request: pytest.FixtureRequest, tmp_path: Path,
               smtp_port: int) -> Iterator[Homeserver]:
    """A homeserver of the test's own (it gets restarted), on each database engine."""
    with database_for(request.param, "hearth_restart") as database:
        server = make_homeserver(f"restart-{request.param}", tmp_path / "hs", smtp_port,
                                 database)
        server.start()
        yield server
        server.stop()


async def test_ai_bot_survives_synapse_restart_mid_answer(
    own_server: Homeserver, fake_model: FakeOpenAI, tmp_path: Path
) -> None:
    """Synapse restarts while the answer streams; the bot still delivers the final edit."""
    config = write_config(tmp_path / "bot.yaml",
                          bot_config(own_server, tmp_path / "bot", fake_model.base_url))
    bot = BotProcess(config)
    bot.start()
    factory = ClientFactory(own_server)
    try:
        user = await factory.user("alice")
        bot_id = bot_user_id(own_server)
        room_id = await dm_with_bot(user, bot_id)
        watcher = SyncWatcher(user.client)
        await watcher.prime()
        fake_model.reset()
        fake_model.push(Reply(text=ANSWER, tokens_per_second=7))
        await user.client.send_message_event(room_id, EventType.ROOM_MESSAGE,
                                             {"msgtype": "m.text", "body": "go slowly"})
        first = await watcher.wait_for(lambda r: bot_events(r, room_id, bot_id), timeout=30)
        assert first[0]["content"][LIVE] == {}
        own_server.restart()

        def final(response: dict[str, object]) -> object:
            for event in bot_events(response, room_id, bot_id):  # type: ignore[arg-type]
                content = event["content"]
                if "m.new_content" in content and LIVE not in content:
                    return content
            return None

        done = await watcher.wait_for(final, timeout=120)
        assert done["m.new_content"]["body"] == ANSWER, bot.log()
        # The outage hit the answer in flight: the bot's sync and its edits failed meanwhile.
        assert any("sync failed" in line for line in bot.output), bot.log()
        assert any("send failed" in line for line in bot.output), bot.log()
        assert bot.process is not None and bot.process.poll() is None
    finally:
        bot.stop()
        await factory.close()
