"""The decision on one ``m.room.message`` content: accept, rewrite or refuse (pure).

Validation comes first (:mod:`validate`); then every ``formatted_body`` (the top-level one and
the one inside ``m.new_content`` of an edit) is sanitised (:mod:`sanitize`). Any
``formatted_body`` is sanitised whatever its ``format`` says: ``org.matrix.custom.html`` is the
only format the spec defines, and a careless client may render HTML regardless. Content whose
sanitised form is byte-for-byte what was sent is accepted untouched; otherwise a rewritten copy
is returned, with only the ``formatted_body`` fields changed (``body`` is never touched).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hearth.synapse_modules.content_guard.sanitize import (
    nesting_depth,
    rough_nesting_depth,
    sanitise_html,
)
from hearth.synapse_modules.content_guard.validate import (
    TOO_DEEP,
    Limits,
    Problem,
    validate_message,
)

# Raw markup may open this many times the allowed depth before it is refused unparsed: the
# exact limit is checked after parsing, this bound only keeps absurd input from costing
# quadratic parse time.
ROUGH_DEPTH_FACTOR = 5

HTML_FIELDS: tuple[tuple[str, ...], ...] = (
    ("formatted_body",),
    ("m.new_content", "formatted_body"),
)


@dataclass(frozen=True)
class Accept:
    """The content is well formed and its HTML already safe: store it as sent."""


@dataclass(frozen=True)
class Rewrite:
    """Store ``content`` instead of what was sent; ``fields`` were sanitised."""

    content: dict[str, Any]
    fields: tuple[str, ...]


Verdict = Accept | Rewrite | Problem

ACCEPT = Accept()


def plain_json(value: Any) -> Any:
    """A deep copy of JSON-like data as plain dicts and lists (events may hold frozen maps)."""
    if isinstance(value, Mapping):
        return {str(key): plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(item) for item in value]
    return value


def _lookup(content: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = content
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def sanitise_field(html: str, label: str, limits: Limits) -> str | Problem:
    """The sanitised HTML of one field, or why it is refused (nested too deeply)."""
    rough_limit = ROUGH_DEPTH_FACTOR * limits.max_nesting_depth
    if rough_nesting_depth(html, rough_limit) > rough_limit:
        return Problem(
            TOO_DEEP,
            f"'{label}' opens more than {rough_limit} HTML tags without closing them; "
            f"tags may nest at most {limits.max_nesting_depth} levels deep",
        )
    clean = sanitise_html(html)
    depth = nesting_depth(clean)
    if depth > limits.max_nesting_depth:
        return Problem(
            TOO_DEEP,
            f"'{label}' nests HTML tags {depth} levels deep; "
            f"at most {limits.max_nesting_depth} are allowed",
        )
    return clean


def check_message(content: Mapping[str, Any], limits: Limits) -> Verdict:
    """Accept, rewrite or refuse the content of a local ``m.room.message``."""
    problem = validate_message(content, limits)
    if problem is not None:
        return problem
    changes: dict[tuple[str, ...], str] = {}
    for path in HTML_FIELDS:
        html = _lookup(content, path)
        if not isinstance(html, str):
            continue
        result = sanitise_field(html, ".".join(path), limits)
        if isinstance(result, Problem):
            return result
        if result != html:
            changes[path] = result
    if not changes:
        return ACCEPT
    rewritten: dict[str, Any] = plain_json(content)
    for path, clean in changes.items():
        target = rewritten
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = clean
    return Rewrite(rewritten, tuple(".".join(path) for path in changes))
