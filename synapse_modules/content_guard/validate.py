"""Shape and size checks of ``m.room.message`` content (pure, no Synapse imports).

What is refused, each with a message naming the field and what was expected:

- ``msgtype`` and ``body`` missing or not strings (the spec: "Homeservers SHOULD reject
  m.room.message events which don't have a msgtype key, or which don't have a textual body
  key, with an HTTP status code of 400");
- ``format`` / ``formatted_body`` present but not strings;
- ``body``, ``formatted_body``, ``msgtype`` or ``format`` longer than the limits (UTF-8 bytes);
- ``m.relates_to`` that is not an object, or whose ``rel_type``/``event_id``/
  ``m.in_reply_to``/``is_falling_back`` have the wrong type; a relation without ``event_id``;
- an edit (``rel_type: m.replace``) without ``m.new_content`` (the spec: "The content of the
  replacement must contain a m.new_content property"), and ``m.new_content`` that is not a
  valid message content itself.

Everything else in the content (``m.mentions``, ``info``, ``url``, custom keys) is left alone.

Through the client API, a top-level ``body``/``msgtype`` that is missing or not a string never
reaches this code: Synapse's own ``EventValidator.validate_builder`` refuses it first (400
``M_UNKNOWN``, "'body' not a string type"), before any module callback runs. The checks stay
here so the decision is complete on its own (and covers ``m.new_content``, which Synapse does
not look into).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hearth.text_checks import json_type

# Reasons: the label of hearth_content_refused_total, a small fixed set.
MISSING_FIELD = "missing_field"
WRONG_TYPE = "wrong_type"
TOO_LARGE = "too_large"
TOO_DEEP = "too_deep"
REASONS = (MISSING_FIELD, WRONG_TYPE, TOO_LARGE, TOO_DEEP)


@dataclass(frozen=True)
class Limits:
    """Per-field limits. Synapse already refuses whole events over 65536 bytes."""

    max_body_bytes: int = 32_768
    max_formatted_body_bytes: int = 49_152
    max_name_bytes: int = 255  # msgtype, format, rel_type
    max_nesting_depth: int = 100


@dataclass(frozen=True)
class Problem:
    """Why content is refused: a metric label and a sentence for the sender."""

    reason: str
    message: str


def wrong_type(path: str, expected: str, value: Any) -> Problem:
    """The problem of a field holding a value of the wrong JSON type."""
    return Problem(WRONG_TYPE, f"'{path}' must be {expected}, not {json_type(value)}")


def _string_field(
    content: Mapping[str, Any], key: str, path: str, limit: int, *, required: bool
) -> Problem | None:
    if key not in content:
        if required:
            return Problem(MISSING_FIELD, f"'{path}' is required in an m.room.message")
        return None
    value = content[key]
    if not isinstance(value, str):
        return wrong_type(path, "a string", value)
    size = len(value.encode("utf-8"))
    if size > limit:
        return Problem(TOO_LARGE, f"'{path}' is {size} bytes long; at most {limit} are allowed")
    return None


def _message_fields(content: Mapping[str, Any], prefix: str, limits: Limits) -> Problem | None:
    checks = (
        ("msgtype", limits.max_name_bytes, True),
        ("body", limits.max_body_bytes, True),
        ("format", limits.max_name_bytes, False),
        ("formatted_body", limits.max_formatted_body_bytes, False),
    )
    for key, limit, required in checks:
        problem = _string_field(content, key, prefix + key, limit, required=required)
        if problem is not None:
            return problem
    return None


def _relation(relates: Any, limits: Limits) -> Problem | None:
    path = "m.relates_to"
    if not isinstance(relates, Mapping):
        return wrong_type(path, "an object", relates)
    for key in ("rel_type", "event_id", "key"):
        problem = _string_field(relates, key, f"{path}.{key}", limits.max_name_bytes,
                                required=False)
        if problem is not None:
            return problem
    if "rel_type" in relates and "event_id" not in relates:
        return Problem(MISSING_FIELD, f"'{path}.event_id' is required with a rel_type")
    if "is_falling_back" in relates and not isinstance(relates["is_falling_back"], bool):
        return wrong_type(f"{path}.is_falling_back", "a boolean", relates["is_falling_back"])
    if "m.in_reply_to" in relates:
        reply = relates["m.in_reply_to"]
        if not isinstance(reply, Mapping):
            return wrong_type(f"{path}.m.in_reply_to", "an object", reply)
        return _string_field(reply, "event_id", f"{path}.m.in_reply_to.event_id",
                             limits.max_name_bytes, required=True)
    return None


def validate_message(content: Mapping[str, Any], limits: Limits) -> Problem | None:
    """The first problem with an ``m.room.message`` content, or None when it is well formed."""
    problem = _message_fields(content, "", limits)
    if problem is not None:
        return problem
    relates = content.get("m.relates_to")
    if "m.relates_to" in content:
        problem = _relation(relates, limits)
        if problem is not None:
            return problem
    is_edit = isinstance(relates, Mapping) and relates.get("rel_type") == "m.replace"
    if "m.new_content" not in content:
        if is_edit:
            return Problem(MISSING_FIELD, "'m.new_content' is required in an edit (m.replace)")
        return None
    new_content = content["m.new_content"]
    if not isinstance(new_content, Mapping):
        return wrong_type("m.new_content", "an object", new_content)
    return _message_fields(new_content, "m.new_content.", limits)
