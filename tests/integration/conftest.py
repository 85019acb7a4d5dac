"""Fixtures of the AI bot's integration tests: the fake model server, the bot process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.ai_bot import BotProcess, bot_config, bot_user_id, write_config
from tests.harness.fake_openai import FakeOpenAI
from tests.harness.server import Homeserver


@pytest.fixture(scope="session")
def fake_model() -> Iterator[FakeOpenAI]:
    """One scripted OpenAI-compatible server for the session (tests reset it)."""
    server = FakeOpenAI()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ai_bot(homeserver: Homeserver, fake_model: FakeOpenAI,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bot, as a ``python -m ai_bot`` process on the session's homeserver; its user ID."""
    data_dir = tmp_path_factory.mktemp(f"bot-{homeserver.name}")
    config = write_config(data_dir / "bot.yaml",
                          bot_config(homeserver, data_dir / "state", fake_model.base_url))
    process = BotProcess(config)
    process.start()
    yield bot_user_id(homeserver)
    process.stop()
