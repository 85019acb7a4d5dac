"""`hearth run` with a bot that cannot run: the homeserver stays up, status and metrics say so."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from mautrix.types import RoomID

from devtools.fake_openai import FakeOpenAI
from hearth.supervisor import MAX_RESTARTS
from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory, private_room_of_two
from tests.harness.logins import metric, password_login
from tests.harness.ports import free_port
from tests.harness.postgres import require_postgres_or_skip, temporary_database
from tests.harness.server import Homeserver, make_homeserver


def _hearth_status(data_dir: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hearth.cli", "status", "--data-dir",
                           str(data_dir), *flags], capture_output=True, text=True, timeout=60,
                          check=False)


def _bot_status(data_dir: Path) -> dict[str, Any]:
    reported = json.loads(_hearth_status(data_dir, "--json").stdout)
    processes = (reported.get("supervisor") or {}).get("processes", [])
    return next((p for p in processes if p["name"] == "ai_bot"), {})


@pytest.fixture(params=["sqlite", "postgres"])
def server_with_broken_bot(request: pytest.FixtureRequest, tmp_path: Path, smtp_port: int,
                           fake_openai: FakeOpenAI) -> Iterator[tuple[Homeserver, int]]:
    """The bot's ledger database is down: nothing render can know, the bot exits each start.

    Render accepts the configuration (a well-formed PostgreSQL URL); the bot provisions its
    account, then cannot connect to its ledger (nothing listens on that port) and exits 1.
    The model endpoint and its key are fine, so only the ledger is wrong.
    """
    with ExitStack() as stack:
        database = None
        if request.param == "postgres":
            require_postgres_or_skip()
            database = stack.enter_context(temporary_database("hearth_optional"))
        key_file = tmp_path / "model-key"
        key_file.write_text("sk-test\n")
        ledger_port = free_port()  # nothing listens there
        ledger_url = f"postgresql://postgres@127.0.0.1:{ledger_port}/hearth_ledger"
        server = make_homeserver(f"broken-bot-{request.param}", tmp_path / "hs", smtp_port,
                                 database, extra=(
                                     f"ai_bot.base_url={fake_openai.base_url}",
                                     f"ai_bot.api_key_file={key_file}",
                                     f"ai_bot.metrics_port={free_port()}",
                                     f'ai_bot.bot_config={{"ledger_url": "{ledger_url}"}}',
                                 ))
        server.start()
        stack.callback(server.stop)
        yield server, ledger_port


async def test_broken_bot_leaves_homeserver_serving(
    server_with_broken_bot: tuple[Homeserver, int],
) -> None:
    """Past the old 5-restart limit the homeserver serves; status and metrics show the bot."""
    server, ledger_port = server_with_broken_bot
    data_dir = server.data_dir
    # More exits than the old limit, after which the whole deployment used to stop.
    bot = await eventually(
        lambda: asyncio.to_thread(_bot_status, data_dir),
        lambda p: p.get("restarts", 0) >= MAX_RESTARTS and p.get("state") == "restarting",
        timeout=300, interval=1.0, what="ai_bot failing past the old restart limit")
    assert bot["optional"] is True and bot["last_exit_code"] == 1
    assert bot["next_restart_at"] is not None
    assert server.process is not None and server.process.poll() is None
    bot_log = (data_dir / "logs" / "ai_bot.out").read_text()
    assert f"port {ledger_port} failed: Connection refused" in bot_log

    factory = ClientFactory(server)
    try:
        room, alice, bob = await private_room_of_two(factory)
        room_id = RoomID(room)
        assert (await password_login(server, alice.localpart, alice.password)).status == 200
        event_id = await alice.client.send_text(room_id, "still serving")
        seen = await bob.client.get_event(room_id, event_id)
        assert seen.content["body"] == "still serving"
    finally:
        await factory.close()

    text = _hearth_status(data_dir)
    assert text.returncode == 0, text.stderr
    assert f"{server.server_name} at {server.base_url}: up" in text.stdout
    assert "  synapse: running, pid " in text.stdout
    bot_line = next(line for line in text.stdout.splitlines() if "ai_bot (optional)" in line)
    assert "restart" in bot_line and "last exit status 1" in bot_line

    async with httpx.AsyncClient(timeout=10) as http:
        exported = (await http.get(server.supervisor_metrics_url)).text
    assert metric(exported, "hearth_process_up", process="synapse") == 1
    assert metric(exported, "hearth_process_restarts_total", process="ai_bot") >= MAX_RESTARTS
    assert metric(exported, "hearth_process_optional", process="ai_bot") == 1
    assert metric(exported, "hearth_process_optional", process="synapse") == 0

    process = server.process
    server.stop()  # Ctrl-C
    assert process.returncode == 0
    assert server.output[-1] == "stopped"
    after = json.loads(_hearth_status(data_dir, "--json").stdout)
    assert after["up"] is False
    assert {p["state"] for p in after["supervisor"]["processes"]} == {"stopped"}
    assert after["supervisor"]["supervisor_running"] is False
