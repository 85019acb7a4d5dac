"""``hearth run`` makes the bot account (type ``bot``, exempt from Synapse's message limit) and
starts the bot with its own credential only: the supervised bot answers, and nothing it can
read names an admin secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.fake_openai import FakeOpenAI, Reply
from hearth.render import BOT_CONFIG_FILE
from tests.harness.accounts import call
from tests.harness.ai_bot import ask, bot_user_id, dm_ready
from tests.harness.calls import eventually, seg
from tests.harness.clients import ClientFactory
from tests.harness.server import Homeserver
from tests.harness.server_pool import ServerPool
from tests.integration.ai_bot.test_bot_credential_least_privilege import (
    admin_secrets,
    process_text,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def bot_settings(fake_model: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
                 ) -> tuple[str, ...]:
    """Settings that make ``hearth run`` start its own bot against the fake model."""
    key_file = tmp_path_factory.mktemp("run-bot") / "model-key"
    key_file.write_text("test-key\n")
    return (f"ai_bot.base_url={fake_model.base_url}", f"ai_bot.api_key_file={key_file}",
            "ai_bot.metrics_port=0")  # off: one port would not do for both engines


@pytest.fixture
def with_bot(server_pool: ServerPool, engine: str, bot_settings: tuple[str, ...]) -> Homeserver:
    return server_pool.get(engine, bot_settings)


def bot_pid(data_dir: Path) -> int | None:
    """The supervised ``python -m hearth.ai_bot --config <data>/ai-bot.yaml``, if running."""
    wanted = str(data_dir / BOT_CONFIG_FILE).encode()
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"hearth.ai_bot" in argv and wanted in argv:
            return int(proc.name)
    return None


async def test_run_starts_the_bot_with_its_own_credential(
    with_bot: Homeserver, fake_model: FakeOpenAI
) -> None:
    """The bot of ``hearth run`` answers; it is a rate-limit-exempt ``bot`` account; its
    config, data, command line and environment hold no admin secret."""
    server = with_bot
    bot = bot_user_id(server)
    clients = ClientFactory(server)
    try:
        alice = await clients.user("alice")
        room_id, watcher = await dm_ready(alice, bot, fake_model, Reply(text="from run"))
        _, answer = await ask(alice, watcher, room_id, bot, "are you there?")
        assert [answer.text(m) for m in answer.messages] == ["from run"]
    finally:
        await clients.close()
    admin = server.admin["access_token"]
    user = await call(server, "GET", f"/_synapse/admin/v2/users/{seg(bot)}", token=admin)
    assert user.body["user_type"] == "bot" and user.body["admin"] is False
    limits = await call(server, "GET", f"/_synapse/admin/v1/users/{seg(bot)}/override_ratelimit",
                        token=admin)
    assert (limits.body["messages_per_second"], limits.body["burst_count"]) == (0, 0)

    pid = await eventually(lambda: _found(server.data_dir), bool, what="the bot's process")
    assert pid is not None
    texts = {"/proc": process_text(pid),
             BOT_CONFIG_FILE: (server.data_dir / BOT_CONFIG_FILE).read_text()}
    texts.update({str(p): p.read_text(errors="replace")
                  for p in (server.data_dir / "ai_bot").rglob("*") if p.is_file()})
    leaks = [(where, secret) for where, text in texts.items()
             for secret in admin_secrets(server) if secret in text]
    assert leaks == []


async def _found(data_dir: Path) -> int | None:
    return bot_pid(data_dir)
