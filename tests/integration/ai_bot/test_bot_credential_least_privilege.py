"""The bot runs with a credential of its own and nothing more: no admin secret in its data,
config, command line or environment, and its token has no admin power."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hearth.ai_bot.config import load_config
from tests.harness.accounts import call
from tests.harness.ai_bot import RunningBot
from tests.harness.calls import seg
from tests.harness.server import Homeserver

pytestmark = pytest.mark.integration


def process_text(pid: int) -> str:
    """The process's command line and environment, as any reader of /proc sees them."""
    proc = Path("/proc") / str(pid)
    return ((proc / "cmdline").read_bytes() + b"\0" + (proc / "environ").read_bytes()).decode(
        "utf-8", errors="replace")


def admin_secrets(server: Homeserver) -> list[str]:
    admin = server.admin
    return [server.shared_secret, admin["password"], admin["access_token"],
            "admin-credentials.json", "registration_shared_secret"]


async def test_ai_bot_holds_no_admin_secret(homeserver: Homeserver,
                                            bot_process: RunningBot) -> None:
    """Neither the files the bot reads and writes nor its process mention an admin secret."""
    config_file = bot_process.process.config_file
    state = load_config(config_file).data_dir
    texts = {str(config_file): config_file.read_text()}
    texts.update({str(p): p.read_text(errors="replace") for p in state.rglob("*")
                  if p.is_file() and p.stat().st_size < 1_000_000})
    process = bot_process.process.process
    assert process is not None
    texts["/proc"] = process_text(process.pid)
    leaks = [(where, secret) for where, text in texts.items()
             for secret in admin_secrets(homeserver) if secret in text]
    assert leaks == []


async def test_ai_bot_token_has_no_admin_power(homeserver: Homeserver,
                                               bot_process: RunningBot) -> None:
    """The bot's own token is refused by Synapse's admin API and by the roles admin API."""
    state = load_config(bot_process.process.config_file).data_dir
    token = json.loads((state / "credentials.json").read_text())["access_token"]
    admin_user = seg(homeserver.admin["user_id"])
    for path in (f"/_synapse/admin/v2/users/{admin_user}",
                 f"/_synapse/client/hearth/v1/admin/roles/users/{admin_user}"):
        reply = await call(homeserver, "GET", path, token=token)
        assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN"), path
