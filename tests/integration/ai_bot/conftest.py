"""Fixtures of the AI bot's integration tests: the bot process (the fake model server,
``fake_model``, is in tests/conftest.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from devtools.fake_openai import FakeOpenAI
from tests.harness.ai_bot import (
    BOT_LOCALPART,
    BotProcess,
    RunningBot,
    bot_config,
    write_config,
)
from tests.harness.ports import free_port
from tests.harness.postgres import database_url
from tests.harness.server import Homeserver


def start_bot(stack: ExitStack, homeserver: Homeserver, fake_model: FakeOpenAI,
              data_dir: Path, localpart: str = BOT_LOCALPART,
              homeserver_url: str | None = None) -> RunningBot:
    """A bot process with a metrics port and its ledger on the same engine as the
    homeserver's database; stopped (and its database dropped) when ``stack`` closes. It
    talks to ``homeserver_url`` when given (a proxy in front of the homeserver)."""
    ledger_url = stack.enter_context(database_url(homeserver.engine, data_dir / "ledger.db",
                                                  "hearth_ai_ledger"))
    metrics_port = free_port()
    config = write_config(data_dir / "bot.yaml", bot_config(
        homeserver, data_dir / "state", fake_model.base_url,
        {"localpart": localpart, "ledger_url": ledger_url, "metrics_port": metrics_port,
         "homeserver_url": homeserver_url or homeserver.base_url}))
    process = BotProcess(config)
    process.start()
    stack.callback(process.stop)
    return RunningBot(f"@{localpart}:{homeserver.server_name}", process,
                      f"http://127.0.0.1:{metrics_port}/metrics", ledger_url)


@pytest.fixture(scope="session")
def bot_process(homeserver: Homeserver, fake_model: FakeOpenAI,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """The bot, as a ``python -m ai_bot`` process on the session's homeserver."""
    with ExitStack() as stack:
        yield start_bot(stack, homeserver, fake_model,
                        tmp_path_factory.mktemp(f"bot-{homeserver.engine}"))


@pytest.fixture
def spare_bot(homeserver: Homeserver, fake_model: FakeOpenAI,
              tmp_path: Path) -> Iterator[RunningBot]:
    """A bot account and process of the test's own, for tests that stop or restart it."""
    with ExitStack() as stack:
        yield start_bot(stack, homeserver, fake_model, tmp_path,
                        localpart=f"ai{secrets.token_hex(3)}")


@pytest.fixture(scope="session")
def ai_bot(bot_process: RunningBot) -> str:
    """The session bot's user ID."""
    return bot_process.user_id
