"""Content guard: a createRoom request's HTML is sanitised before the room's events are built."""

from __future__ import annotations

from typing import Any

from hearth.synapse_modules.content_guard.room_creation import RoomConfigRewrite, check_room_config
from hearth.synapse_modules.content_guard.validate import TOO_DEEP, WRONG_TYPE, Limits, Problem
from tests.unit.synapse_modules.content_guard.xss_corpus import XSS_PAYLOADS, assert_harmless

LIMITS = Limits()


def _topic(html: Any) -> dict[str, Any]:
    return {"type": "m.room.topic", "state_key": "",
            "content": {"topic": "t", "m.topic": {"m.text": [{"mimetype": "text/html",
                                                              "body": html}]}}}


def test_every_payload_in_every_request_place_sanitised() -> None:
    """initial_state, creation_content and power_level_content_override all come out harmless."""
    for name, payload in XSS_PAYLOADS:
        config = {"preset": "private_chat", "name": "kept <b>",
                  "initial_state": [{"type": "m.room.guest_access", "state_key": "",
                                     "content": {"guest_access": "forbidden"}},
                                    _topic(payload)],
                  "creation_content": {"com.example.note": {"formatted_body": payload}},
                  "power_level_content_override": {"com.example": {"m.html": payload}}}
        verdict = check_room_config(config, LIMITS)
        assert isinstance(verdict, RoomConfigRewrite), name
        assert set(verdict.updates) == {"initial_state", "creation_content",
                                        "power_level_content_override"}, name
        state = verdict.updates["initial_state"]
        assert state[0] == config["initial_state"][0]  # type: ignore[index]
        topic = state[1]["content"]["m.topic"]["m.text"][0]["body"]
        note = verdict.updates["creation_content"]["com.example.note"]["formatted_body"]
        levels = verdict.updates["power_level_content_override"]["com.example"]["m.html"]
        for stored in (topic, note, levels):
            assert_harmless(stored)
        assert [event_type for event_type, _ in verdict.rewrites] == [
            "m.room.create", "m.room.power_levels", "m.room.topic"]


def test_clean_request_needs_no_change() -> None:
    """A request whose HTML is already safe (or that has none) is left as it is."""
    assert check_room_config({"initial_state": [_topic("<b>fine</b>")]}, LIMITS) is None
    assert check_room_config({"preset": "public_chat", "topic": "<script>plain</script>"},
                             LIMITS) is None


def test_malformed_entries_left_for_synapse() -> None:
    """Entries Synapse refuses itself (not objects, no type, no content) are not looked at."""
    config = {"initial_state": ["x", {"type": 5, "content": {"formatted_body": "<script>"}},
                                {"type": "m.room.topic"}], "creation_content": "x"}
    assert check_room_config(config, LIMITS) is None


def test_unsafe_html_that_cannot_be_checked_refused_with_place() -> None:
    """A non-string or too-deep HTML field is refused, naming the request entry and the field."""
    assert check_room_config({"initial_state": [_topic(["<b>"])]}, LIMITS) == Problem(
        WRONG_TYPE, "In initial_state[0] (m.room.topic): 'm.topic.m.text[0].body' must be a "
                    "string, not an array")
    deep = check_room_config({"creation_content": {"formatted_body": "<i>" * 150}}, LIMITS)
    assert isinstance(deep, Problem) and deep.reason == TOO_DEEP
    assert deep.message.startswith("In creation_content: 'formatted_body' nests HTML tags 150")
