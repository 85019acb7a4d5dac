"""Where an event's content carries HTML a client would render, whatever the event type (pure).

Clients render HTML from three shapes, and each is recognised wherever it sits in the content:

- ``formatted_body`` (``m.room.message`` and everything modelled on it: ``m.sticker``, an
  edit's ``m.new_content``, bots' custom events);
- a text representation: an object with a ``body`` and an HTML ``mimetype`` (``text/html``,
  ``application/xhtml+xml``; any case, parameters ignored). Extensible events use these lists
  everywhere: ``m.text`` / ``org.matrix.msc1767.text`` / ``org.matrix.msc1767.message``,
  room topics (the spec's ``m.topic.m.text`` and MSC3765's bare ``m.topic`` list), poll
  questions and answers (``m.poll`` and ``org.matrix.msc3381.poll.start``), captions;
- ``m.html`` / ``org.matrix.msc1767.html`` strings (MSC1767's first draft, still read by
  matrix-events-sdk, e.g. for unstable polls).

Matching the shapes anywhere, rather than listing (event type, path) pairs, is deliberate: an
attacker picks the event type and the nesting, and a client that renders a field does not ask
which event it came in. A field of one of these shapes whose value is not a string (or a
representation whose ``mimetype`` is not a string) cannot be checked, so it is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hearth.synapse_modules.content_guard.validate import Problem, wrong_type

# Field kinds: the ``field`` label of hearth_content_sanitised_fields_total, a fixed set.
FORMATTED_BODY = "formatted_body"
HTML_REPRESENTATION = "html_representation"
HTML_STRING = "html_string"
KINDS = (FORMATTED_BODY, HTML_REPRESENTATION, HTML_STRING)

HTML_STRING_KEYS: frozenset[str] = frozenset({"m.html", "org.matrix.msc1767.html"})

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class HtmlField:
    """One place in the content holding HTML, and which of the three shapes it is."""

    path: JsonPath
    kind: str

    @property
    def label(self) -> str:
        """The path as people write it: ``m.topic.m.text[1].body``."""
        return path_label(self.path)


def path_label(path: JsonPath) -> str:
    """``("m.topic", "m.text", 1, "body")`` as ``m.topic.m.text[1].body``."""
    label = ""
    for key in path:
        if isinstance(key, int):
            label += f"[{key}]"
        else:
            label += f".{key}" if label else key
    return label


def is_html_mimetype(mimetype: str) -> bool:
    """Whether a client may render a representation of this media type as HTML."""
    essence = mimetype.split(";", 1)[0].strip().lower()
    return essence in ("text/html", "application/xhtml+xml")


def _children(path: JsonPath, value: Mapping[str, Any] | list[Any]
              ) -> list[tuple[JsonPath, Any, str | None]] | Problem:
    """The entries below one object or array, HTML fields marked with their kind."""
    if not isinstance(value, Mapping):
        return [((*path, index), item, None) for index, item in enumerate(value)]
    html_body = False
    if "body" in value and "mimetype" in value:
        mimetype = value["mimetype"]
        if not isinstance(mimetype, str):
            return wrong_type(path_label((*path, "mimetype")), "a string", mimetype)
        html_body = is_html_mimetype(mimetype)
    entries: list[tuple[JsonPath, Any, str | None]] = []
    for key, item in value.items():
        kind = None
        if key == "formatted_body":
            kind = FORMATTED_BODY
        elif key in HTML_STRING_KEYS:
            kind = HTML_STRING
        elif key == "body" and html_body:
            kind = HTML_REPRESENTATION
        if kind is not None and not isinstance(item, str):
            return wrong_type(path_label((*path, key)), "a string", item)
        entries.append(((*path, key), item, kind))
    return entries


def find_html_fields(content: Mapping[str, Any]) -> list[HtmlField] | Problem:
    """Every HTML field of ``content`` in document order, or why it cannot be checked.

    Walks with an explicit stack, so no nesting depth can exhaust Python's recursion limit.
    """
    found: list[HtmlField] = []
    stack: list[tuple[JsonPath, Any, str | None]] = [((), content, None)]
    while stack:
        path, value, kind = stack.pop()
        if kind is not None:
            found.append(HtmlField(path, kind))
            continue
        if not isinstance(value, Mapping | list | tuple):
            continue
        entries = _children(path, value if isinstance(value, Mapping) else list(value))
        if isinstance(entries, Problem):
            return entries
        stack.extend(reversed(entries))
    return found
