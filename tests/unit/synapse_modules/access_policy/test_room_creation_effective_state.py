"""The state a createRoom body creates, read as Synapse 1.163 reads it, and the decision on it."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.render import PROJECT_DIR
from hearth.synapse_modules.access_policy import decisions, load_policy
from hearth.synapse_modules.access_policy.room_creation import (
    BadRoomConfig,
    ChosenState,
    parse_room_creation,
)

POLICY = load_policy(PROJECT_DIR / "tests" / "harness" / "policy.yaml")
MEMBER, BOT, PRIVATE = (POLICY.role(n) for n in ("member", "bot", "private_rooms"))
JR = "m.room.join_rules"


def rule(join_rule: str, state_key: str | None = "") -> dict[str, Any]:
    entry: dict[str, Any] = {"type": JR, "content": {"join_rule": join_rule}}
    if state_key is not None:
        entry["state_key"] = state_key
    return entry


@pytest.mark.parametrize(("body", "join_rule", "publishes"), [
    ({}, "invite", False),
    ({"visibility": "private"}, "invite", False),
    ({"visibility": "public"}, "public", True),
    ({"visibility": "anything-else"}, "public", False),
    ({"visibility": "public", "preset": "private_chat"}, "invite", True),
    ({"preset": "public_chat"}, "public", False),
    ({"preset": "trusted_private_chat"}, "invite", False),
    ({"preset": "public_chat", "initial_state": [rule("invite")]}, "invite", False),
    ({"preset": "public_chat", "initial_state": [rule("invite", "decoy")]}, "public", False),
    ({"preset": "public_chat", "initial_state": [rule("invite", None)]}, "invite", False),
    ({"initial_state": [rule("public")]}, "public", False),
    ({"initial_state": [rule("public"), rule("invite")]}, "invite", False),
    ({"initial_state": [rule("invite"), rule("public")]}, "public", False),
    ({"initial_state": [rule("public"), rule("invite", "x")]}, "public", False),
    ({"initial_state": [{"type": JR, "content": {}}], "preset": "public_chat"}, "invite", False),
    ({"initial_state": [rule("knock")]}, "knock", False),
])
def test_effective_join_rule_follows_synapse_precedence(
    body: dict[str, Any], join_rule: str, publishes: bool,
) -> None:
    """Preset (or visibility's default), then the last join_rules entry with state key ""."""
    creation = parse_room_creation(body)
    assert (creation.join_rule, creation.publishes) == (join_rule, publishes)
    assert creation.is_public == (join_rule == "public")


def test_every_field_that_sends_state_is_a_chosen_state_event() -> None:
    """creation_content, power levels, initial_state (any key), name, topic and alias."""
    creation = parse_room_creation({
        "creation_content": {"m.federate": False},
        "power_level_content_override": {"users_default": 50},
        "initial_state": [{"type": "m.room.topic", "state_key": "k", "content": {"topic": "a"}},
                          {"type": "m.room.topic", "state_key": "k", "content": {"topic": "b"}}],
        "name": "n", "topic": "t", "room_alias_name": "alias",
        "invite": ["@a:localhost"], "invite_3pid": [{"medium": "email"}],
    })
    assert creation.state == (
        ChosenState("m.room.create", "", {"m.federate": False}),
        ChosenState("m.room.power_levels", "", {"users_default": 50}),
        ChosenState("m.room.topic", "k", {"topic": "b"}),
        ChosenState("m.room.name", "", {"name": "n"}),
        ChosenState("m.room.topic", "", {"topic": "t"}),
        ChosenState("m.room.canonical_alias", "", {"alias": "alias"}),
    )
    assert creation.invites == 2
    assert parse_room_creation({"creation_content": {}}).state == ()
    assert parse_room_creation({"creation_content": {"room_version": "10"}}).state == ()


@pytest.mark.parametrize(("body", "field"), [
    ({"visibility": 1}, "visibility"),
    ({"preset": None}, "preset"),
    ({"preset": "Public_Chat"}, "preset"),
    ({"initial_state": {}}, "initial_state"),
    ({"initial_state": ["x"]}, "initial_state[0]"),
    ({"initial_state": [{"content": {}}]}, "initial_state[0].type"),
    ({"initial_state": [{"type": ["t"], "content": {}}]}, "initial_state[0].type"),
    ({"initial_state": [{"type": "t", "state_key": None, "content": {}}]},
     "initial_state[0].state_key"),
    ({"initial_state": [{"type": "t"}]}, "initial_state[0].content"),
    ({"initial_state": [{"type": "t", "content": []}]}, "initial_state[0].content"),
    ({"initial_state": [{"type": JR, "content": {"join_rule": 1}}]},
     "initial_state[0].content.join_rule"),
    ({"creation_content": None}, "creation_content"),
    ({"power_level_content_override": "x"}, "power_level_content_override"),
    ({"room_alias_name": 5}, "room_alias_name"),
    ({"invite": "@a:localhost"}, "invite"),
    ({"invite": [5]}, "invite[0]"),
    ({"invite_3pid": [5]}, "invite_3pid[0]"),
])
def test_unreadable_body_is_refused_naming_the_field(body: dict[str, Any], field: str) -> None:
    """What the decision cannot read is refused, never guessed."""
    with pytest.raises(BadRoomConfig) as refused:
        parse_room_creation(body)
    assert refused.value.field == field and f"'{field}'" in str(refused.value)


def test_decision_checks_public_then_state_types() -> None:
    """No public room without create_public_rooms; each chosen type needs send_state_events."""
    public = parse_room_creation({"preset": "public_chat",
                                  "initial_state": [rule("invite", "decoy")]})
    assert decisions.may_create_room_as(PRIVATE, public).permission == "create_public_rooms"
    assert decisions.may_create_room_as(MEMBER, public).allowed
    topic = parse_room_creation({"initial_state": [
        {"type": "m.room.topic", "state_key": "x", "content": {}}]})
    refused = decisions.may_create_room_as(BOT, topic)
    assert refused.permission == "send_state_events" and "m.room.topic" in refused.message
    assert decisions.may_create_room_as(BOT, parse_room_creation({"name": "ok"})).allowed


def test_state_decision_join_rule_public_needs_create_public_rooms() -> None:
    """PUT /state of join rule public (state key "") is the same decision as at creation."""
    assert decisions.may_send_state_event(
        PRIVATE, JR, "", {"join_rule": "public"}).permission == "create_public_rooms"
    assert decisions.may_send_state_event(PRIVATE, JR, "x", {"join_rule": "public"}).allowed
    assert decisions.may_send_state_event(PRIVATE, JR, "", {"join_rule": "knock"}).allowed
    assert decisions.may_send_state_event(MEMBER, JR, "", {"join_rule": "public"}).allowed
