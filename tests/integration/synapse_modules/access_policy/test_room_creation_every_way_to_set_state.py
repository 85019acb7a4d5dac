"""createRoom sets state many ways; each goes through the same decision as PUT /state.

Roles from tests/harness/policy.yaml: ``private_rooms`` may do everything a member may except
create public rooms; ``bot`` may create rooms but set only ``m.room.name``.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.harness.accounts import CLIENT_V3, Reply, call
from tests.harness.calls import seg
from tests.harness.clients import ClientFactory, User
from tests.harness.roles import metric_value, user_with_role

JOIN_RULES = "m.room.join_rules"


def state(event_type: str, content: dict[str, Any], state_key: str | None = "") -> dict[str, Any]:
    entry: dict[str, Any] = {"type": event_type, "content": content}
    if state_key is not None:
        entry["state_key"] = state_key
    return entry


PUBLIC = {"join_rule": "public"}
INVITE = {"join_rule": "invite"}

# Every body shape that ends with a room anyone may join (join rule "public", state key "").
PUBLIC_WAYS = [
    pytest.param({"preset": "public_chat"}, id="preset"),
    pytest.param({"visibility": "public"}, id="visibility-default-preset"),
    pytest.param({"visibility": "shared"}, id="visibility-not-private-default-preset"),
    pytest.param({"preset": "public_chat",
                  "initial_state": [state(JOIN_RULES, INVITE, "decoy")]}, id="decoy-state-key"),
    pytest.param({"preset": "public_chat",
                  "initial_state": [state(JOIN_RULES, INVITE, " ")]}, id="decoy-space-key"),
    pytest.param({"preset": "public_chat",
                  "initial_state": [state("M.room.join_rules", INVITE)]}, id="decoy-type-case"),
    pytest.param({"preset": "public_chat",
                  "initial_state": [state(JOIN_RULES, {"join_rule": "invite"}, "x"),
                                    state("m.room.topic", {"topic": "t"})]},
                 id="decoy-among-others"),
    pytest.param({"initial_state": [state(JOIN_RULES, PUBLIC)]}, id="initial-state"),
    pytest.param({"initial_state": [state(JOIN_RULES, PUBLIC, None)]},
                 id="initial-state-no-state-key"),
    pytest.param({"preset": "private_chat", "initial_state": [state(JOIN_RULES, PUBLIC)]},
                 id="private-preset-initial-state"),
    pytest.param({"preset": "trusted_private_chat",
                  "initial_state": [state(JOIN_RULES, PUBLIC)]}, id="trusted-preset"),
    pytest.param({"initial_state": [state(JOIN_RULES, INVITE), state(JOIN_RULES, PUBLIC)]},
                 id="last-entry-wins"),
    pytest.param({"initial_state": [state(JOIN_RULES, PUBLIC), state(JOIN_RULES, INVITE, "x")]},
                 id="public-then-decoy"),
    pytest.param({"preset": "public_chat", "room_version": "12"}, id="room-version-12"),
    pytest.param({"preset": "public_chat", "room_version": "10"}, id="room-version-10"),
    pytest.param({"preset": "public_chat", "power_level_content_override": {"invite": 0}},
                 id="power-levels-override"),
    pytest.param({"preset": "public_chat", "creation_content": {"m.federate": False}},
                 id="creation-content"),
    pytest.param({"preset": "public_chat", "name": "n", "topic": "t", "is_direct": True},
                 id="name-topic-direct"),
    pytest.param({"initial_state": [state(JOIN_RULES, PUBLIC)], "is_direct": True,
                  "preset": "trusted_private_chat"}, id="direct-chat"),
]



async def create(user: User, server: Any, body: dict[str, Any]) -> Reply:
    return await call(server, "POST", f"{CLIENT_V3}/createRoom", body,
                      token=str(user.client.api.token))


def assert_refused(reply: Reply, permission: str, role: str) -> None:
    assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN"), reply
    assert f"(permission: {permission})" in reply.body["error"], reply
    assert f"'{role}'" in reply.body["error"], reply


@pytest.mark.parametrize("body", PUBLIC_WAYS)
async def test_public_room_refused_every_way_for_a_role_without_it(
    clients: ClientFactory, body: dict[str, Any],
) -> None:
    """A role without create_public_rooms gets 403 naming it, whatever sets the join rule."""
    user = await user_with_role(clients, "private_rooms")
    assert_refused(await create(user, clients.server, body), "create_public_rooms",
                   "private_rooms")


@pytest.mark.parametrize("body", [
    pytest.param({"preset": "public_chat", "initial_state": [state(JOIN_RULES, INVITE)]},
                 id="initial-state-overrides-preset"),
    pytest.param({"initial_state": [state(JOIN_RULES, PUBLIC), state(JOIN_RULES, INVITE)]},
                 id="last-entry-wins"),
    pytest.param({"preset": "private_chat"}, id="private-preset"),
    pytest.param({"visibility": "private", "preset": "trusted_private_chat"}, id="trusted"),
])
async def test_invite_only_room_allowed_when_the_effective_rule_is_invite(
    clients: ClientFactory, body: dict[str, Any],
) -> None:
    """The decision follows the state Synapse creates: the room it makes is invite-only."""
    user = await user_with_role(clients, "private_rooms")
    reply = await create(user, clients.server, body)
    assert reply.status == 200, reply
    rule = await call(clients.server, "GET",
                      f"{CLIENT_V3}/rooms/{seg(reply.body['room_id'])}/state/{JOIN_RULES}",
                      token=str(user.client.api.token))
    assert rule.body == INVITE, rule


FORBIDDEN_TOPIC_WAYS = [
    pytest.param({"initial_state": [state("m.room.topic", {"topic": "t"}, key)]}, id=f"key-{i}")
    for i, key in enumerate(["", "x", " ", "@someone:localhost", "\u200b", None])
] + [
    pytest.param({"topic": "t"}, id="topic-field"),
]


@pytest.mark.parametrize("body", FORBIDDEN_TOPIC_WAYS)
async def test_state_type_not_permitted_refused_in_initial_state_any_key(
    clients: ClientFactory, body: dict[str, Any],
) -> None:
    """A bot (m.room.name only) cannot set m.room.topic through createRoom, with any key."""
    bot = await user_with_role(clients, "bot")
    reply = await create(bot, clients.server, body)
    assert_refused(reply, "send_state_events", "bot")
    assert "m.room.topic" in reply.body["error"], reply


@pytest.mark.parametrize(("body", "event_type"), [
    pytest.param({"initial_state": [state("m.room.power_levels", {"users_default": 100})]},
                 "m.room.power_levels", id="initial-power-levels"),
    pytest.param({"power_level_content_override": {"users_default": 100}},
                 "m.room.power_levels", id="power-level-override"),
    pytest.param({"initial_state": [state(JOIN_RULES, INVITE)]}, JOIN_RULES, id="join-rules"),
    pytest.param({"initial_state": [state(JOIN_RULES, INVITE, "decoy")]}, JOIN_RULES,
                 id="join-rules-decoy"),
    pytest.param({"initial_state": [state("m.room.encryption",
                                          {"algorithm": "m.megolm.v1.aes-sha2"})]},
                 "m.room.encryption", id="encryption"),
    pytest.param({"room_alias_name": f"bot{secrets.token_hex(4)}"}, "m.room.canonical_alias",
                 id="alias"),
    pytest.param({"creation_content": {"m.federate": False}}, "m.room.create",
                 id="creation-content"),
    pytest.param({"initial_state": [state("org.example.custom", {}, "k")]},
                 "org.example.custom", id="custom-type"),
])
async def test_other_state_set_at_creation_needs_the_state_permission(
    clients: ClientFactory, body: dict[str, Any], event_type: str,
) -> None:
    """Power levels, join rules, encryption, alias, creation content: each is state the
    creator chooses, checked like PUT /state."""
    bot = await user_with_role(clients, "bot")
    reply = await create(bot, clients.server, body)
    assert_refused(reply, "send_state_events", "bot")
    assert event_type in reply.body["error"], reply


async def test_permitted_state_at_creation_is_allowed(clients: ClientFactory) -> None:
    """The bot may set m.room.name at creation, by field or initial_state, and invite."""
    bot = await user_with_role(clients, "bot")
    friend = await clients.user("friend")
    for body in ({"name": "by field"}, {"initial_state": [state("m.room.name", {"name": "x"})]},
                 {"invite": [friend.user_id], "is_direct": True}):
        reply = await create(bot, clients.server, body)
        assert reply.status == 200, (body, reply)


async def test_put_state_join_rule_public_needs_create_public_rooms(
    clients: ClientFactory,
) -> None:
    """The same decision on PUT /state: making a room public later is refused too."""
    user = await user_with_role(clients, "private_rooms")
    created = await create(user, clients.server, {"preset": "private_chat"})
    assert created.status == 200, created
    base = f"{CLIENT_V3}/rooms/{seg(created.body['room_id'])}/state/{JOIN_RULES}"
    token = str(user.client.api.token)
    refused = await call(clients.server, "PUT", base, PUBLIC, token=token)
    assert_refused(refused, "create_public_rooms", "private_rooms")
    for path, content in ((f"{base}/decoy", PUBLIC), (base, {"join_rule": "knock"})):
        allowed = await call(clients.server, "PUT", path, content, token=token)
        assert allowed.status == 200, (path, allowed)
    member = await clients.user("member")
    own = await create(member, clients.server, {"preset": "private_chat"})
    public = await call(clients.server, "PUT",
                        f"{CLIENT_V3}/rooms/{seg(own.body['room_id'])}/state/{JOIN_RULES}",
                        PUBLIC, token=str(member.client.api.token))
    assert public.status == 200, public


@pytest.mark.parametrize("body", [
    pytest.param({"initial_state": {"type": JOIN_RULES, "content": PUBLIC}}, id="not-a-list"),
    pytest.param({"initial_state": [5]}, id="entry-not-object"),
    pytest.param({"initial_state": [{"type": 5, "content": {}}]}, id="type-not-string"),
    pytest.param({"initial_state": [{"content": {}}]}, id="type-missing"),
    pytest.param({"initial_state": [{"type": "m.room.topic"}]}, id="content-missing"),
    pytest.param({"initial_state": [{"type": "m.room.topic", "content": "t"}]},
                 id="content-not-object"),
    pytest.param({"initial_state": [{"type": "m.room.topic", "state_key": 1, "content": {}}]},
                 id="state-key-not-string"),
    pytest.param({"initial_state": [state(JOIN_RULES, {"join_rule": ["public"]})]},
                 id="join-rule-not-string"),
    pytest.param({"power_level_content_override": [1]}, id="power-levels-not-object"),
    pytest.param({"creation_content": "x"}, id="creation-content-not-object"),
    pytest.param({"invite": "@a:localhost"}, id="invite-not-list"),
    pytest.param({"invite_3pid": {"medium": "email"}}, id="invite-3pid-not-list"),
    pytest.param({"preset": ["public_chat"]}, id="preset-not-string"),
    pytest.param({"visibility": {"public": True}}, id="visibility-not-string"),
])
async def test_malformed_room_state_is_400_not_500(
    clients: ClientFactory, body: dict[str, Any],
) -> None:
    """A body the decision cannot read is refused 400 M_BAD_JSON naming the field."""
    user = await user_with_role(clients, "private_rooms")
    reply = await create(user, clients.server, body)
    assert (reply.status, reply.errcode) == (400, "M_BAD_JSON"), reply
    assert next(iter(body)) in reply.body["error"], reply


async def test_refusals_at_creation_are_counted(clients: ClientFactory) -> None:
    """Unreadable bodies count as invalid_room_config; policy refusals by permission."""
    url = clients.server.metrics_url
    user = await user_with_role(clients, "private_rooms")
    # (A body malformed in JSON terms, such as a non-object initial_state entry, is refused
    # before Synapse by login_security's request screen and counted there instead.)
    counters = (("hearth_policy_invalid_requests_total", {"reason": "invalid_room_config"},
                 {"preset": "no_such_preset"}),
                ("hearth_policy_refusals_total", {"permission": "create_public_rooms"},
                 {"preset": "public_chat", "initial_state": [state(JOIN_RULES, INVITE, "x")]}))
    for name, labels, body in counters:
        before = metric_value(url, name, **labels)
        assert (await create(user, clients.server, body)).status in (400, 403)
        assert metric_value(url, name, **labels) == before + 1, name
