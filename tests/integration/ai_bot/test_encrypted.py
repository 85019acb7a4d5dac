"""An encrypted direct chat: a mautrix client with libolm talks to the bot (nio + vodozemac)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from mautrix.api import HTTPAPI
from mautrix.client import Client
from mautrix.client.state_store import MemoryStateStore
from mautrix.crypto import OlmMachine
from mautrix.crypto.store import MemoryCryptoStore
from mautrix.types import EventType, Membership, MessageEvent, RoomID, UserID

from devtools.fake_openai import FakeOpenAI, Reply
from hearth.ai_bot.matrix.crosssign import verify
from tests.harness.accounts import call
from tests.harness.ai_bot import LIVE, dm_with_bot
from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory
from tests.harness.server import Homeserver

pytestmark = pytest.mark.integration


class StateStore(MemoryStateStore):
    """mautrix's memory state store plus what its crypto needs."""

    async def find_shared_rooms(self, user_id: UserID) -> list[RoomID]:
        return [room for room in self.members if user_id in self.members[room]
                and await self.is_encrypted(room)]


async def assert_bot_device_cross_signed(server: Homeserver, token: str, bot: str) -> None:
    """The bot's device is signed by its self-signing key, which its master key signed."""
    keys = (await call(server, "POST", "/_matrix/client/v3/keys/query",
                       {"device_keys": {bot: []}}, token=token)).body
    master = next(iter(keys["master_keys"][bot]["keys"].values()))
    ssk_obj = keys["self_signing_keys"][bot]
    ssk = next(iter(ssk_obj["keys"].values()))
    assert verify(master, ssk_obj, ssk_obj["signatures"][bot][f"ed25519:{master}"])
    (device,) = keys["device_keys"][bot].values()
    assert verify(ssk, device, device["signatures"][bot][f"ed25519:{ssk}"])


async def test_ai_bot_answers_in_encrypted_room(
    clients: ClientFactory, homeserver: Homeserver, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """The bot decrypts an encrypted prompt, answers encrypted (edits included), and its
    device is cross-signed."""
    user = await clients.user("crypto")
    login = await user.client.login(password=user.password, device_name="mautrix test")
    session = aiohttp.ClientSession()
    state = StateStore()
    crypto_store = MemoryCryptoStore(str(user.user_id), "test-pickle-key")
    client = Client(UserID(user.user_id), login.device_id, state_store=state,
                    sync_store=crypto_store,
                    api=HTTPAPI(homeserver.base_url, login.access_token, client_session=session))
    machine = OlmMachine(client, crypto_store, state)
    await machine.load()
    client.crypto = machine
    await machine.share_keys()
    received: list[dict[str, Any]] = []

    async def on_message(event: MessageEvent) -> None:
        if event.sender == ai_bot:
            received.append(event.serialize())

    client.add_event_handler(EventType.ROOM_MESSAGE, on_message)
    sync_task = client.start(None)
    try:
        user.client = client
        room_id = await dm_with_bot(user, ai_bot, encrypted=True)
        fake_model.reset()
        fake_model.push(Reply(text=" ".join(f"secret{i}" for i in range(20)),
                              tokens_per_second=20))
        # The megolm session is shared with the members our client's sync has seen join.
        await eventually(lambda: state.get_members(room_id, (Membership.JOIN,)),
                         lambda members: ai_bot in members, what="our sync showing the bot")
        await client.send_message_event(room_id, EventType.ROOM_MESSAGE,
                                        {"msgtype": "m.text", "body": "whisper to me"})

        async def final_edits() -> list[dict[str, Any]]:
            return [e for e in received if "m.new_content" in e["content"]
                    and LIVE not in e["content"]]

        finals = await eventually(final_edits, bool, timeout=40,
                                  what="a decryptable final answer from the bot")
        assert received[0]["content"][LIVE] == {}
        assert finals, received
        assert finals[-1]["content"]["m.new_content"]["body"].endswith("secret19")
        assert fake_model.requests[-1].messages[-1]["content"].endswith("whisper to me")
        await assert_bot_device_cross_signed(homeserver, login.access_token, ai_bot)
    finally:
        client.stop()
        sync_task.cancel()
        await session.close()
