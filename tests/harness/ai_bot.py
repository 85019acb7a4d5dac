"""The AI bot as a real process (``python -m ai_bot``) against a test homeserver, and the
Matrix-side helpers its tests share: a DM with the bot, waiting for its answer events."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from mautrix.api import Method
from mautrix.types import EventType, RoomID, StateEvent, StrippedStateEvent, UserID

from devtools.fake_openai import Fail, FakeOpenAI, Reply
from devtools.processes import stop_process
from hearth.bot_account import BotAccount, BotAccountReady, provision_bot_account
from hearth.settings import deep_merge
from tests.harness.calls import eventually, seg
from tests.harness.clients import User
from tests.harness.processes import launch
from tests.harness.server import Homeserver
from tests.harness.sync import SyncWatcher, room_timeline

LIVE = "org.matrix.msc4357.live"
BOT_LOCALPART = "ai"
AI_ACCESS = "/_synapse/client/hearth/v1/ai/access/"


def provision_bot(server: Homeserver, data_dir: Path, localpart: str) -> BotAccountReady:
    """The bot account and its own credential in ``data_dir``, made as ``hearth run`` makes
    them (with the admin's powers, which the bot itself never gets)."""
    account = BotAccount(localpart, "Hearth AI", data_dir / "credentials.json")
    with ThreadPoolExecutor(1) as pool:  # callers may be inside an event loop
        return pool.submit(provision_bot_account, server.base_url, account,
                           server.shared_secret, server.admin["access_token"]).result()


def bot_config(server: Homeserver, data_dir: Path, model_url: str,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The bot's config for ``server``, its account provisioned first (``provision_bot``)."""
    localpart = str((extra or {}).get("localpart", BOT_LOCALPART))
    provision_bot(server, data_dir, localpart)
    base: dict[str, Any] = {
        "homeserver_url": server.base_url,
        "localpart": localpart,
        "displayname": "Hearth AI",
        "data_dir": str(data_dir),
        # Short waits so failure tests stay quick: three attempts 50-200 ms apart (a
        # Retry-After up to 5 s is honoured), a stream silent for 1.5 s counts as stalled.
        "model": {"default": "gpt-4o-mini",
                  "endpoint": {"base_url": model_url, "api_key": "test-key",
                               "retry": {"max_attempts": 3, "base_delay_s": 0.05,
                                         "max_delay_s": 0.2, "max_retry_after_s": 5},
                               "timeouts": {"first_token_s": 10, "stall_s": 1.5}}},
        "context": {"max_output_tokens": 200},
        "streaming": {"min_edit_interval_s": 0.3, "max_edits_per_second": 20},
        "tools": {"max_steps": 3},
    }
    return deep_merge(base, extra or {})


@dataclass
class RunningBot:
    """A bot process and where to look at it: its user, metrics and ledger."""

    user_id: str
    process: BotProcess
    metrics_url: str
    ledger_url: str


@dataclass
class BotProcess:
    """``python -m ai_bot --config FILE`` with its output kept for failure messages."""

    config_file: Path
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    def start(self, timeout: float = 60.0) -> None:
        self.output = []
        env = {**os.environ, "OPENAI_API_KEY": "test-key"}
        self.process, ready = launch(
            [sys.executable, "-m", "hearth.ai_bot", "--config", str(self.config_file)],
            "ai bot ready", self.output, timeout, env)
        if not ready:
            self.stop()
            raise RuntimeError("the bot did not start:\n" + "\n".join(self.output[-40:]))

    def stop(self) -> int | None:
        """SIGTERM, then (after 30 s) SIGKILL; the exit status (None if not running)."""
        if self.process is None:
            return None
        status = stop_process(self.process, 30)
        self.process = None
        return status

    def log(self) -> str:
        return "\n".join(self.output[-60:])


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def bot_user_id(server: Homeserver) -> str:
    return f"@{BOT_LOCALPART}:{server.server_name}"


async def dm_ready(user: User, bot: str, fake_model: FakeOpenAI, *script: Reply | Fail
                   ) -> tuple[RoomID, SyncWatcher]:
    """A direct chat with the bot, a watcher of ``user``'s sync primed past its history, and
    the model reset to play ``script``: where most bot tests start."""
    room_id = await dm_with_bot(user, bot)
    watcher = SyncWatcher(user.client)
    await watcher.prime()
    fake_model.reset()
    fake_model.push(*script)
    return room_id, watcher


async def group_ready(owner: User, member: User, bot: str, fake_model: FakeOpenAI,
                      *script: Reply | Fail) -> RoomID:
    """A room ``owner`` made with ``member`` and the bot, once both have joined, and the model
    reset to play ``script``: where the group-room bot tests start."""
    room_id = await owner.client.create_room(invitees=[UserID(bot), UserID(member.user_id)])
    await member.client.join_room(room_id)
    await eventually(lambda: owner.client.get_joined_members(room_id),
                     lambda members: bot in members, timeout=30, what="the bot joining")
    fake_model.reset()
    fake_model.push(*script)
    return room_id


async def dm_with_bot(user: User, bot: str, encrypted: bool = False) -> RoomID:
    """A direct chat of ``user`` with the bot, once the bot has joined."""
    initial_state: list[StateEvent | StrippedStateEvent | dict[str, Any]] = []
    if encrypted:
        initial_state.append({"type": "m.room.encryption", "state_key": "",
                              "content": {"algorithm": "m.megolm.v1.aes-sha2"}})
    room_id = await user.client.create_room(invitees=[UserID(bot)], is_direct=True,
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


@dataclass
class AnswerView:
    """What a client shows of the bot's answer: its messages, each with its latest edit."""

    messages: list[str] = field(default_factory=list)  # answer events, in order
    shown: dict[str, dict[str, Any]] = field(default_factory=dict)  # event → shown content
    events: list[dict[str, Any]] = field(default_factory=list)  # the bot's events, in order

    def add(self, event: dict[str, Any]) -> None:
        content = event.get("content", {})
        relation = content.get("m.relates_to") or {}
        self.events.append(event)
        if relation.get("rel_type") == "m.replace":
            self.shown[relation["event_id"]] = content.get("m.new_content", {})
        else:
            self.messages.append(event["event_id"])
            self.shown[event["event_id"]] = content

    def text(self, event_id: str) -> str:
        return str(self.shown[event_id].get("body", ""))

    def live(self, event_id: str) -> bool:
        return LIVE in self.shown[event_id]

    def complete(self) -> bool:
        """Every message of the answer shows its final (non-live) content."""
        return bool(self.messages) and not any(self.live(m) for m in self.messages)

    def finals_of(self, event_id: str) -> list[str]:
        """Bodies of the final (non-live) edits of ``event_id``, in order."""
        return [e["content"]["m.new_content"]["body"] for e in self.events
                if (e["content"].get("m.relates_to") or {}).get("event_id") == event_id
                and "m.new_content" in e["content"] and LIVE not in e["content"]]


async def watch_answer(
    watcher: SyncWatcher, room_id: str, bot: str, *, prompt_id: str | None = None,
    answer_ids: tuple[str, ...] = (), done: Callable[[AnswerView], bool] | None = None,
    timeout: float = 30.0,
) -> AnswerView:
    """Follow the bot's events of one answer — new messages replying to ``prompt_id`` (any
    when None) and edits of those or of ``answer_ids`` — until ``done`` (default: every
    message of the answer is final)."""
    view = AnswerView()
    known = set(answer_ids)
    finished = done or AnswerView.complete

    def find(response: dict[str, Any]) -> bool:
        for event in bot_events(response, room_id, bot):
            content = event.get("content", {})
            relation = content.get("m.relates_to") or {}
            if relation.get("rel_type") == "m.replace":
                if relation.get("event_id") not in known:
                    continue
            elif prompt_id is not None and (
                    (relation.get("m.in_reply_to") or {}).get("event_id") != prompt_id):
                continue
            else:
                known.add(event["event_id"])
            view.add(event)
        return finished(view)

    await watcher.wait_for(find, timeout=timeout)
    return view


async def watch_redone(watcher: SyncWatcher, room_id: str, bot: str, answer_id: str, *,
                       prompt_id: str | None = None, timeout: float = 30.0) -> AnswerView:
    """Follow the bot's edits of ``answer_id`` (and any new reply to ``prompt_id``) until a
    final edit of ``answer_id``: an answer redone, or ended, in place."""
    return await watch_answer(watcher, room_id, bot, prompt_id=prompt_id, answer_ids=(answer_id,),
                              done=lambda view: bool(view.finals_of(answer_id)),
                              timeout=timeout)


async def shown_body(user: User, room_id: str, event_id: str) -> str:
    """The body a client shows for ``event_id`` now: its latest edit's, as the server bundles
    it, else its own."""
    event = await user.raw(Method.GET, f"/_matrix/client/v3/rooms/{seg(room_id)}/event/"
                                       f"{seg(event_id)}")
    edit = ((event.get("unsigned") or {}).get("m.relations") or {}).get("m.replace")
    if edit:
        return str(edit["content"]["m.new_content"]["body"])
    return str(event["content"]["body"])


async def send(user: User, room_id: str, content: dict[str, Any],
               event_type: EventType = EventType.ROOM_MESSAGE) -> str:
    """Send one event as ``user``; its ID."""
    payload: Any = content  # mautrix types contents; these are plain JSON
    return str(await user.client.send_message_event(RoomID(room_id), event_type, payload))


async def edit(user: User, room_id: str, event_id: str, body: str) -> str:
    """Edit ``user``'s message ``event_id`` to ``body`` (m.replace), as clients do."""
    return await send(user, room_id, {
        "msgtype": "m.text", "body": f"* {body}",
        "m.new_content": {"msgtype": "m.text", "body": body},
        "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
    })


async def react(user: User, room_id: str, event_id: str, key: str) -> str:
    """React to ``event_id`` with ``key``."""
    return await send(user, room_id, {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": event_id, "key": key}}, EventType.REACTION)


async def ask(user: User, watcher: SyncWatcher, room_id: str, bot: str, text: str,
              timeout: float = 30.0) -> tuple[str, AnswerView]:
    """Send ``text`` (mentioning the bot) and wait for the complete answer."""
    prompt = await send(user, room_id, {"msgtype": "m.text", "body": text,
                                        "m.mentions": {"user_ids": [bot]}})
    return prompt, await watch_answer(watcher, room_id, bot, prompt_id=prompt, timeout=timeout)
