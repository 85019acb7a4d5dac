"""What a /createRoom body will create, read the way Synapse 1.163 reads it (pure, no Synapse).

The policy decides on the room's *effective* state, not on one field: a preset, ``visibility``
and ``initial_state`` all set the join rule, and ``initial_state``, ``name``, ``topic``,
``room_alias_name``, ``power_level_content_override`` and ``creation_content`` each send a state
event the creator chose. Synapse's precedence (``synapse/handlers/room.py``,
``RoomCreationHandler.create_room`` and ``_send_events_for_new_room``):

- the preset is ``preset``, else ``private_chat`` when ``visibility`` is absent or
  ``"private"``, else ``public_chat`` (any other visibility string means public_chat);
- ``initial_state`` entries are keyed by (type, state_key, default ``""``); a later entry with
  the same key replaces an earlier one's content; an ``m.room.join_rules`` entry with state key
  ``""`` replaces the preset's join rule (other state keys are just more state events);
- ``visibility: "public"`` also lists the room in the directory.

A body this cannot read is refused (``BadRoomConfig``, a 400) rather than guessed at: fail
closed, and no 500 from Synapse tripping over it later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REASON_ROOM_CONFIG = "invalid_room_config"
JOIN_RULES = "m.room.join_rules"
PUBLIC = "public"
PRESET_JOIN_RULES = {"private_chat": "invite", "trusted_private_chat": "invite",
                     "public_chat": PUBLIC}
# createRoom fields that send one state event each: (field, event type, content key).
FIELD_EVENTS = (("name", "m.room.name", "name"), ("topic", "m.room.topic", "topic"),
                ("room_alias_name", "m.room.canonical_alias", "alias"))


class BadRoomConfig(ValueError):
    """A createRoom body the policy cannot read, naming the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"Invalid '{field}' in the createRoom body: {problem}")
        self.field = field


@dataclass(frozen=True)
class ChosenState:
    """A state event the creator chose, as PUT /rooms/…/state/<type>/<state_key> would send it."""

    event_type: str
    state_key: str
    content: Mapping[str, Any]


@dataclass(frozen=True)
class RoomCreation:
    """What the room will be: its join rule, directory listing, invites and chosen state."""

    join_rule: str
    publishes: bool
    invites: int
    state: tuple[ChosenState, ...]

    @property
    def is_public(self) -> bool:
        """Anyone may join: the effective join rule (state key "") is ``public``."""
        return self.join_rule == PUBLIC


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadRoomConfig(field, f"expected a JSON object, got {type(value).__name__}")
    return value


def _list(value: Any, field: str, of: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadRoomConfig(field, f"expected a list of {of}, got {type(value).__name__}")
    return value


def _string(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise BadRoomConfig(field, f"expected a string, got {type(value).__name__}")
    return value


def join_rule_of(content: Mapping[str, Any], field: str) -> str:
    """The join rule an m.room.join_rules content sets (absent: invite, as Synapse's auth)."""
    rule = content.get("join_rule", "invite")
    return _string(rule, f"{field}.join_rule")


def _initial_state(raw: Any) -> dict[tuple[str, str], Mapping[str, Any]]:
    """``initial_state`` keyed like Synapse's OrderedDict: later entries replace content."""
    entries: dict[tuple[str, str], Mapping[str, Any]] = {}
    for index, entry in enumerate(_list(raw, "initial_state", "state events")):
        field = f"initial_state[{index}]"
        event = _object(entry, field)
        if "type" not in event:
            raise BadRoomConfig(f"{field}.type", "missing, expected an event type")
        event_type = _string(event["type"], f"{field}.type")
        state_key = _string(event.get("state_key", ""), f"{field}.state_key")
        if "content" not in event:
            raise BadRoomConfig(f"{field}.content", "missing, expected a JSON object")
        content = _object(event["content"], f"{field}.content")
        if event_type == JOIN_RULES:
            join_rule_of(content, f"{field}.content")
        entries[(event_type, state_key)] = content
    return entries


def parse_room_creation(config: Mapping[str, Any]) -> RoomCreation:
    """The effective result of a /createRoom body; ``BadRoomConfig`` when it cannot be read."""
    visibility = _string(config.get("visibility", "private"), "visibility")
    default_preset = "private_chat" if visibility == "private" else "public_chat"
    preset = _string(config.get("preset", default_preset), "preset")
    if preset not in PRESET_JOIN_RULES:
        raise BadRoomConfig("preset", f"got {preset[:64]!r}, expected one of "
                                      f"{', '.join(PRESET_JOIN_RULES)}")
    initial = _initial_state(config.get("initial_state", []))
    chosen: list[ChosenState] = []
    if "creation_content" in config:
        creation = _object(config["creation_content"], "creation_content")
        if set(creation) - {"room_version"}:  # Synapse overwrites room_version itself
            chosen.append(ChosenState("m.room.create", "", creation))
    if config.get("power_level_content_override") is not None:
        override = _object(config["power_level_content_override"],
                           "power_level_content_override")
        chosen.append(ChosenState("m.room.power_levels", "", override))
    chosen.extend(ChosenState(t, k, c) for (t, k), c in initial.items())
    if "room_alias_name" in config:
        _string(config["room_alias_name"], "room_alias_name")
    chosen.extend(ChosenState(event_type, "", {key: config[field]})
                  for field, event_type, key in FIELD_EVENTS if field in config)
    invites = len(_list(config.get("invite", []), "invite", "user IDs"))
    for index, invitee in enumerate(config.get("invite", [])):
        _string(invitee, f"invite[{index}]")
    third_party = _list(config.get("invite_3pid", []), "invite_3pid", "invitation objects")
    for index, entry in enumerate(third_party):
        _object(entry, f"invite_3pid[{index}]")
    join_rules = initial.get((JOIN_RULES, ""))
    join_rule = (join_rule_of(join_rules, "initial_state") if join_rules is not None
                 else PRESET_JOIN_RULES[preset])
    return RoomCreation(join_rule=join_rule, publishes=visibility == "public",
                        invites=invites + len(third_party), state=tuple(chosen))
