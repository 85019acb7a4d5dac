"""Function calling over real Synapse: the bot runs built-in tools as the asking user, sends
the results back to the model and keeps streaming; refusals go to the model, not the user."""

from __future__ import annotations

from typing import Any

import pytest
from mautrix.types import RoomID, StateEvent, StrippedStateEvent, UserID

from devtools.fake_openai import FakeOpenAI, FakeToolCall, Reply
from tests.harness.ai_bot import ask
from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory, User
from tests.harness.sync import SyncWatcher

pytestmark = pytest.mark.integration


def tool_results(messages: list[dict[str, Any]]) -> dict[str, str]:
    """The ``tool`` messages of a request, by tool call ID."""
    return {m["tool_call_id"]: m["content"] for m in messages if m["role"] == "tool"}


async def room_with_bot(owner: User, bot: str, *others: User,
                        visibility: str = "shared") -> RoomID:
    initial: list[StateEvent | StrippedStateEvent | dict[str, Any]] = [
        {"type": "m.room.history_visibility", "state_key": "",
         "content": {"history_visibility": visibility}}]
    room_id = await owner.client.create_room(
        invitees=[UserID(bot), *(UserID(u.user_id) for u in others)], initial_state=initial)
    for other in others:
        await other.client.join_room(room_id)
    await eventually(lambda: owner.client.get_joined_members(room_id),
                     lambda members: bot in members, what="the bot joining")
    return room_id


async def test_ai_bot_tool_result_goes_back_to_model(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """The model asks for list_members in streamed deltas; the bot sends the room's real member
    list back as a tool message and the answer continues in the same message."""
    alice, bob = await clients.user("alice"), await clients.user("bob")
    room_id = await room_with_bot(alice, ai_bot, bob)
    watcher = SyncWatcher(alice.client)
    await watcher.prime()
    fake_model.reset()
    fake_model.push(
        Reply(text="Let me look.", tool_calls=(
            FakeToolCall("list_members", "{}", id="call_members", pieces=2),)),
        Reply(text="There are three of us here.", tokens_per_second=30),
    )
    _, answer = await ask(alice, watcher, room_id, ai_bot, "Hearth AI: who is in this room?")
    (answer_id,) = answer.messages
    assert answer.text(answer_id) == "Let me look.\n\nThere are three of us here."
    first, second = fake_model.requests
    assert "list_members" in [tool["function"]["name"] for tool in first.tools]
    call = second.messages[-2]
    assert call["role"] == "assistant" and call["content"] == "Let me look."
    assert call["tool_calls"][0]["id"] == "call_members"
    assert call["tool_calls"][0]["function"] == {"name": "list_members", "arguments": "{}"}
    members = tool_results(second.messages)["call_members"]
    for user_id in (alice.user_id, bob.user_id, ai_bot):
        assert f"({user_id})" in members
    assert len(members.splitlines()) == 3


async def test_ai_bot_tools_act_with_askers_permissions(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """Under 'joined' history visibility a latecomer's context and searches hold nothing from
    before they joined and reading another room's message fails (errors go to the model, the
    answer completes); a member who was there gets the message in context and search."""
    alice, bob = await clients.user("alice"), await clients.user("bob")
    carol = await clients.user("carol")  # a third member: alice's messages are no prompts
    room_id = await room_with_bot(alice, ai_bot, carol, visibility="joined")
    secret = await alice.client.send_text(room_id, "the launch code is 1234")
    elsewhere = await room_with_bot(alice, ai_bot, carol)
    other = await alice.client.send_text(elsewhere, "a note from another room")
    await alice.client.invite_user(room_id, UserID(bob.user_id))
    await bob.client.join_room(room_id)
    watcher = SyncWatcher(bob.client)
    await watcher.prime()
    fake_model.reset()
    calls = (
        FakeToolCall("search_room_history", '{"query": "launch code"}', id="call_search"),
        FakeToolCall("read_message", f'{{"event_id": "{secret}"}}', id="call_secret"),
        FakeToolCall("read_message", f'{{"event_id": "{other}"}}', id="call_other"),
    )
    fake_model.push(Reply(text="", tool_calls=calls), Reply(text="I cannot see that."))
    _, answer = await ask(bob, watcher, room_id, ai_bot, "Hearth AI: what is the code?")
    assert [answer.text(m) for m in answer.messages] == ["I cannot see that."]
    assert len(fake_model.requests) == 2
    results = tool_results(fake_model.requests[1].messages)
    assert results["call_search"] == "No messages in this room match 'launch code'."
    assert results["call_secret"].startswith("error: ")
    assert results["call_other"].startswith("error: ")
    leaked = str([r.messages for r in fake_model.requests])  # context and tool results
    assert "1234" not in leaked and "another room" not in leaked

    fake_model.reset()
    fake_model.push(Reply(text="", tool_calls=calls[:1]), Reply(text="Found it."))
    mine = SyncWatcher(alice.client)
    await mine.prime()
    await ask(alice, mine, room_id, ai_bot, "Hearth AI: what is the code?")
    assert "the launch code is 1234" in str(fake_model.requests[0].messages)  # her context
    found = tool_results(fake_model.requests[1].messages)["call_search"]
    assert "the launch code is 1234" in found and secret in found


async def test_ai_bot_tool_steps_are_bounded(
    clients: ClientFactory, ai_bot: str, fake_model: FakeOpenAI
) -> None:
    """A model that keeps asking for tools gets max_steps (3 here) calls, the last without
    tools offered, and the answer says it stopped short."""
    alice = await clients.user("alice")
    room_id = await room_with_bot(alice, ai_bot)
    watcher = SyncWatcher(alice.client)
    await watcher.prime()
    fake_model.reset()
    again = Reply(text="", tool_calls=(FakeToolCall("current_datetime", "{}"),))
    fake_model.push(again, again, again, Reply(text="never asked for"))
    _, answer = await ask(alice, watcher, room_id, ai_bot, "Hearth AI: what time is it?")
    requests = fake_model.requests
    fake_model.reset()
    assert len(requests) == 3
    assert [bool(r.tools) for r in requests] == [True, True, False]
    assert [len(tool_results(r.messages)) for r in requests] == [0, 1, 2]
    (answer_id,) = answer.messages
    assert answer.text(answer_id) == (
        "⚠️ *I stopped after 3 tool steps, the most I may take for one answer; "
        "ask again to continue.*")
