"""The AI bot as a real process (``python -m ai_bot``) against a test homeserver, and the
Matrix-side helpers its tests share: a DM with the bot, waiting for its answer events."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from mautrix.types import RoomID

from deploy.settings import deep_merge
from tests.harness.clients import User
from tests.harness.server import Homeserver
from tests.harness.sync import SyncWatcher, room_timeline

LIVE = "org.matrix.msc4357.live"
BOT_LOCALPART = "ai"


def bot_config(server: Homeserver, data_dir: Path, model_url: str,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    base: dict[str, Any] = {
        "homeserver_url": server.base_url,
        "localpart": BOT_LOCALPART,
        "displayname": "Hearth AI",
        "data_dir": str(data_dir),
        "registration_shared_secret_file": str(server.data_dir / "secrets"
                                               / "registration_shared_secret"),
        "admin_credentials_file": str(server.data_dir / "admin-credentials.json"),
        "model": {"default": "gpt-4o-mini",
                  "endpoint": {"base_url": model_url, "api_key": "test-key",
                               "retry": {"max_attempts": 1}}},
        "context": {"max_output_tokens": 200},
        "streaming": {"min_edit_interval_s": 0.3, "max_edits_per_second": 20},
        "access": {"budgets_usd": {"limited": {"daily_usd": 0.0}}},
    }
    return deep_merge(base, extra or {})


@dataclass
class BotProcess:
    """``python -m ai_bot --config FILE`` with its output kept for failure messages."""

    config_file: Path
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    def start(self, timeout: float = 60.0) -> None:
        self.output = []
        env = {**os.environ, "OPENAI_API_KEY": "test-key"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ai_bot", "--config", str(self.config_file)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            stdin=subprocess.DEVNULL, env=env,
        )
        ready = threading.Event()

        def pump() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                self.output.append(line.rstrip("\n"))
                if line.startswith("ai bot ready"):
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the bot did not start:\n" + "\n".join(self.output[-40:]))

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        return "\n".join(self.output[-60:])


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def bot_user_id(server: Homeserver) -> str:
    return f"@{BOT_LOCALPART}:{server.server_name}"


async def dm_with_bot(user: User, bot: str, encrypted: bool = False) -> RoomID:
    """A direct chat of ``user`` with the bot, once the bot has joined."""
    from tests.harness.calls import eventually

    initial_state: list[dict[str, Any]] = []
    if encrypted:
        initial_state.append({"type": "m.room.encryption", "state_key": "",
                              "content": {"algorithm": "m.megolm.v1.aes-sha2"}})
    room_id = await user.client.create_room(invitees=[bot], is_direct=True,  # type: ignore[arg-type]
                                            initial_state=initial_state)

    async def members() -> Any:
        return await user.client.get_joined_members(room_id)

    await eventually(members, lambda found: bot in found, timeout=30, what="the bot joining")
    return room_id


def bot_events(response: dict[str, Any], room_id: str, bot: str) -> list[dict[str, Any]]:
    return [e for e in room_timeline(response, room_id) if e.get("sender") == bot
            and e.get("type") in ("m.room.message", "m.room.encrypted")]


async def collect_answer(watcher: SyncWatcher, room_id: str, bot: str,
                         prompt_id: str | None = None, timeout: float = 30.0
                         ) -> list[dict[str, Any]]:
    """The bot's events in ``room_id`` answering ``prompt_id`` (any when None), up to and
    including a final (non-live) one."""
    seen: list[dict[str, Any]] = []
    answer_ids: set[str] = set()

    def belongs(content: dict[str, Any]) -> bool:
        relation = content.get("m.relates_to") or {}
        if relation.get("rel_type") == "m.replace":
            return relation.get("event_id") in answer_ids
        return prompt_id is None or (
            (relation.get("m.in_reply_to") or {}).get("event_id") == prompt_id)

    def find(response: dict[str, Any]) -> bool:
        for event in bot_events(response, room_id, bot):
            content = event.get("content", {})
            if not belongs(content):
                continue
            seen.append(event)
            if "m.new_content" not in content:
                answer_ids.add(event["event_id"])
            if content.get("msgtype") == "m.notice" or LIVE not in content:
                return True
        return False

    await watcher.wait_for(find, timeout=timeout)
    return seen
