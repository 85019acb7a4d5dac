"""!ai commands, model switching and the access policy's AI permissions (real Synapse)."""

from __future__ import annotations

from typing import Any

import pytest
from mautrix.types import EventType

from devtools.fake_openai import FakeOpenAI, Reply
from tests.harness.accounts import call
from tests.harness.ai_bot import collect_answer, group_ready
from tests.harness.calls import eventually, seg
from tests.harness.clients import ClientFactory, User
from tests.harness.server import Homeserver
from tests.harness.sync import SyncWatcher

pytestmark = pytest.mark.integration
ROLES = "/_synapse/client/hearth/v1/admin/roles/assignments/"


async def assign(server: Homeserver, user: User, role: str) -> None:
    reply = await call(server, "PUT", ROLES + seg(user.user_id), {"role": role},
                       token=server.admin["access_token"])
    assert reply.status == 200, reply


_watchers: dict[str, SyncWatcher] = {}


async def ask(user: User, room_id: str, bot: str, text: str) -> dict[str, Any]:
    """Send ``text``; the bot's final event content (new content for edits).

    One watcher per user: Synapse caches an initial /sync for minutes, so a second fresh
    watcher would start from an old position."""
    watcher = _watchers.get(user.user_id)
    if watcher is None:
        watcher = _watchers[user.user_id] = SyncWatcher(user.client)
        await watcher.prime()
    prompt = await user.client.send_text(room_id, text)
    final = (await collect_answer(watcher, room_id, bot, prompt))[-1]["content"]
    shown: dict[str, Any] = final.get("m.new_content", final)
    return shown


async def test_ai_bot_model_switch_only_to_allowed_models(
    clients: ClientFactory, homeserver: Homeserver, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """Members may only pick their role's models; a moderator's choice applies to the room."""
    alice, carol = await clients.user("alice"), await clients.user("carol")
    await assign(homeserver, carol, "moderator")
    room_id = await group_ready(alice, carol, ai_bot, fake_model)
    listing = await ask(alice, room_id, ai_bot, "!ai models")
    assert "`gpt-4o-mini` ✅" in listing["body"] and "`gpt-4o`" not in listing["body"]
    refused = await ask(alice, room_id, ai_bot, "!ai model gpt-4o")
    assert "may not use **gpt-4o**" in refused["body"]
    unknown = await ask(alice, room_id, ai_bot, "!ai model gpt-99")
    assert "no model called" in unknown["body"]
    switched = await ask(carol, room_id, ai_bot, "!ai model gpt-4o")
    assert "now uses **gpt-4o**" in switched["body"]
    await ask(carol, room_id, ai_bot, "Hearth AI: which model?")
    assert fake_model.requests[-1].body["model"] == "gpt-4o"
    await ask(alice, room_id, ai_bot, "Hearth AI: and for me?")
    assert fake_model.requests[-1].body["model"] == "gpt-4o-mini"
    assert fake_model.requests[-1].max_tokens == 200


async def test_ai_bot_refuses_roles_without_ai(
    clients: ClientFactory, homeserver: Homeserver, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """An invite from a role without AI is declined; a guest's prompt gets a refusal."""
    alice, guest = await clients.user("alice"), await clients.user("guest")
    other = await clients.user("nonai")
    await assign(homeserver, guest, "guest")
    await assign(homeserver, other, "bot")  # may create rooms and invite, no AI
    invited = await other.client.create_room(invitees=[ai_bot])

    async def bot_membership() -> Any:
        state = await other.client.get_state(invited)
        return [e.content.membership for e in state
                if e.type == EventType.ROOM_MEMBER and e.state_key == ai_bot]

    await eventually(bot_membership, lambda m: [str(x) for x in m] == ["leave"], timeout=30,
                     what="the bot declining")
    room_id = await group_ready(alice, guest, ai_bot, fake_model)
    refusal = await ask(guest, room_id, ai_bot, "Hearth AI: hello?")
    assert "role does not include the AI" in refusal["body"]
    assert fake_model.requests == []


async def test_ai_bot_reset_system_and_usage_commands(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """!ai system (moderators) sets the system prompt, !ai reset drops history, usage shows."""
    alice, bob = await clients.user("alice"), await clients.user("bob")
    room_id = await group_ready(alice, bob, ai_bot, fake_model)
    assert "Only room moderators" in (await ask(bob, room_id, ai_bot, "!ai system Be brief"))[
        "body"]
    assert "System prompt set" in (await ask(alice, room_id, ai_bot, "!ai system Be a pirate"))[
        "body"]
    fake_model.push(Reply(text="Arr."))
    await ask(alice, room_id, ai_bot, "Hearth AI: remember the number 42")
    first = fake_model.requests[-1].messages
    assert first[0] == {"role": "system", "content": "Be a pirate"}
    assert "RESET" not in (await ask(alice, room_id, ai_bot, "!ai reset"))["body"]
    await ask(bob, room_id, ai_bot, "Hearth AI: what number?")
    after = fake_model.requests[-1].messages
    assert not any("42" in str(m.get("content")) for m in after)
    assert [m["role"] for m in after] == ["system", "user"]
    assert after[1]["content"].startswith("bob")
    usage = await ask(alice, room_id, ai_bot, "!ai usage")
    assert "Your AI spend" in usage["body"]
    helped = await ask(alice, room_id, ai_bot, "!ai help")
    assert "!ai reset" in helped["body"]
