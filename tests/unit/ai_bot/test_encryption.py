"""Encryption chores: undecryptable messages get one notice and are answered once the key
arrives; key upkeep and cross-signing run after syncs."""

from __future__ import annotations

from nio import MatrixRoom, RoomMessageText

from hearth.ai_bot import strings
from hearth.ai_bot.matrix.encryption import Encryption
from tests.unit.ai_bot.fake_matrix import ALICE, BOT, FakeCrypto, FakeMatrix

HOUR_MS = 3_600_000


def chores(matrix: FakeMatrix, crypto: FakeCrypto, handled: list[str],
           cross_sign: list[str] | None = None) -> Encryption:
    def on_text(room: MatrixRoom, event: RoomMessageText) -> None:
        handled.append(event.body)

    async def sign() -> None:
        assert cross_sign is not None
        cross_sign.append("attempt")
        if len(cross_sign) == 1:
            raise RuntimeError("device keys not on the server yet")

    return Encryption(crypto, matrix, on_text=on_text, max_event_age_s=600,
                      cross_sign=sign if cross_sign is not None else None)


async def test_encryption_undecryptable_told_once_then_answered() -> None:
    """The sender hears once per session that the bot cannot decrypt; when the key arrives
    the message is handled like a new one."""
    matrix, crypto, handled = FakeMatrix(), FakeCrypto(), list[str]()
    encryption = chores(matrix, crypto, handled)
    room = matrix.room(ALICE)
    first = FakeCrypto.encrypted(ALICE, "s1")
    await encryption.on_undecryptable(room, first)
    await encryption.on_undecryptable(room, FakeCrypto.encrypted(ALICE, "s1", ts=first
                                                                 .server_timestamp + 1))
    [notice] = matrix.notices()
    assert notice.content["body"] == strings.CANNOT_DECRYPT
    assert notice.content["m.relates_to"] == {"m.in_reply_to": {"event_id": first.event_id}}
    assert crypto.key_requests == ["s1", "s1"]
    await encryption.after_sync()
    assert handled == []
    crypto.keys["s1"] = {"type": "m.room.message",
                         "content": {"msgtype": "m.text", "body": "secret question"}}
    await encryption.after_sync()
    assert handled == ["secret question", "secret question"]
    await encryption.after_sync()
    assert len(handled) == 2


async def test_encryption_ignores_own_and_old_events() -> None:
    """The bot's own events and old backlog get no notice and no retry."""
    matrix, crypto, handled = FakeMatrix(), FakeCrypto(), list[str]()
    encryption = chores(matrix, crypto, handled)
    room = matrix.room(ALICE)
    await encryption.on_undecryptable(room, FakeCrypto.encrypted(BOT, "own"))
    old = FakeCrypto.encrypted(ALICE, "old", ts=FakeCrypto.encrypted(ALICE, "x")
                               .server_timestamp - HOUR_MS)
    await encryption.on_undecryptable(room, old)
    assert matrix.sent == [] and crypto.key_requests == [] and encryption.undecrypted == []


async def test_encryption_key_upkeep_and_cross_signing_until_done() -> None:
    """Keys are uploaded when nio asks, to-device messages sent each time, and cross-signing
    is retried after a failure until it has worked once."""
    matrix, crypto, handled, attempts = FakeMatrix(), FakeCrypto(), list[str](), list[str]()
    encryption = chores(matrix, crypto, handled, cross_sign=attempts)
    for _ in range(3):
        await encryption.after_sync()
    assert crypto.calls == ["keys_upload", "send_to_device_messages",
                            "send_to_device_messages", "send_to_device_messages"]
    assert attempts == ["attempt", "attempt"]
