"""The decision on one local event's content: accept, rewrite or refuse (pure).

An ``m.room.message`` is validated first (:mod:`validate`). Then, for every event type, each
field a client renders as HTML (:mod:`html_fields`: ``formatted_body``, HTML text
representations such as a topic's or a poll's, ``m.html``) is sanitised (:mod:`sanitize`).
A ``formatted_body`` is sanitised whatever its ``format`` says: ``org.matrix.custom.html`` is
the only format the spec defines, and a careless client may render HTML regardless. Content
whose sanitised form is byte-for-byte what was sent is accepted untouched; otherwise a
rewritten copy is returned, with only the HTML fields changed (plain-text ``body``, ``topic``
and text/plain representations are never touched).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hearth.synapse_modules.content_guard.html_fields import (
    HtmlField,
    JsonPath,
    find_html_fields,
)
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


@dataclass(frozen=True)
class Accept:
    """The content is well formed and its HTML already safe: store it as sent."""


@dataclass(frozen=True)
class Rewrite:
    """Store ``content`` instead of what was sent; the ``changed`` fields were sanitised."""

    content: dict[str, Any]
    changed: tuple[HtmlField, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        """The sanitised fields by path, for logs and tests."""
        return tuple(field.label for field in self.changed)


Verdict = Accept | Rewrite | Problem

ACCEPT = Accept()


def plain_json(value: Any) -> Any:
    """A deep copy of JSON-like data as plain dicts and lists (events may hold frozen maps).

    Copies with an explicit stack, so no nesting depth can exhaust Python's recursion limit.
    """

    def empty_like(item: Any) -> Any:
        if isinstance(item, Mapping):
            return {}
        if isinstance(item, list | tuple):
            return []
        return item

    root = empty_like(value)
    stack: list[tuple[Any, Any]] = [(value, root)] if root is not value else []
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, Mapping) else enumerate(source)
        for key, item in items:
            copy = empty_like(item)
            if isinstance(target, dict):
                target[str(key)] = copy
            else:
                target.append(copy)
            if copy is not item:
                stack.append((item, copy))
    return root


def _lookup(content: Any, path: JsonPath) -> Any:
    for key in path:
        content = content[key]
    return content


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


def check_content(event_type: str, content: Mapping[str, Any], limits: Limits) -> Verdict:
    """Accept, rewrite or refuse the content of a local event of ``event_type``."""
    if event_type == "m.room.message":
        problem = validate_message(content, limits)
        if problem is not None:
            return problem
    found = find_html_fields(content)
    if isinstance(found, Problem):
        return found
    changes: list[tuple[HtmlField, str]] = []
    for field in found:
        html = _lookup(content, field.path)
        result = sanitise_field(html, field.label, limits)
        if isinstance(result, Problem):
            return result
        if result != html:
            changes.append((field, result))
    if not changes:
        return ACCEPT
    rewritten: dict[str, Any] = plain_json(content)
    for field, clean in changes:
        _lookup(rewritten, field.path[:-1])[field.path[-1]] = clean
    return Rewrite(rewritten, tuple(field for field, _ in changes))


def check_message(content: Mapping[str, Any], limits: Limits) -> Verdict:
    """Accept, rewrite or refuse the content of a local ``m.room.message``."""
    return check_content("m.room.message", content, limits)
