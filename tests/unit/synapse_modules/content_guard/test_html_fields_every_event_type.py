"""Content guard: every field a client renders as HTML, in every event type, is sanitised."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hearth.synapse_modules.content_guard.message_verdict import (
    ACCEPT,
    Rewrite,
    check_content,
)
from hearth.synapse_modules.content_guard.sanitize import sanitise_html
from hearth.synapse_modules.content_guard.validate import TOO_DEEP, WRONG_TYPE, Limits, Problem
from tests.unit.synapse_modules.content_guard.xss_corpus import XSS_PAYLOADS, assert_harmless

LIMITS = Limits()
HTML = "org.matrix.custom.html"
Path = tuple[str | int, ...]
# (event type, content with the HTML put in its place, where the HTML sits)
Placed = tuple[str, dict[str, Any], Path]


def _html_text(html: str, mimetype: str = "text/html") -> list[dict[str, str]]:
    """An extensible-events text block: plain text first, then the HTML representation."""
    return [{"mimetype": "text/plain", "body": "plain <b>kept</b>"},
            {"mimetype": mimetype, "body": html}]


def _message(html: str, msgtype: str = "m.text", **extra: Any) -> dict[str, Any]:
    return {"msgtype": msgtype, "body": "plain", "format": HTML, "formatted_body": html, **extra}


FIELDS: dict[str, Callable[[str], Placed]] = {
    "message formatted_body": lambda h: ("m.room.message", _message(h), ("formatted_body",)),
    "notice formatted_body": lambda h: (
        "m.room.message", _message(h, "m.notice"), ("formatted_body",)),
    "emote formatted_body": lambda h: (
        "m.room.message", _message(h, "m.emote"), ("formatted_body",)),
    "image caption formatted_body": lambda h: (
        "m.room.message", _message(h, "m.image", url="mxc://example.org/cat", filename="c.png"),
        ("formatted_body",)),
    "edit m.new_content.formatted_body": lambda h: (
        "m.room.message",
        {"msgtype": "m.text", "body": "* new", "m.new_content": _message(h),
         "m.relates_to": {"rel_type": "m.replace", "event_id": "$orig"}},
        ("m.new_content", "formatted_body")),
    "message m.text": lambda h: (
        "m.room.message", {"msgtype": "m.text", "body": "plain", "m.text": _html_text(h)},
        ("m.text", 1, "body")),
    "message org.matrix.msc1767.text": lambda h: (
        "m.room.message",
        {"msgtype": "m.text", "body": "plain", "org.matrix.msc1767.text": _html_text(h)},
        ("org.matrix.msc1767.text", 1, "body")),
    "message org.matrix.msc1767.message": lambda h: (
        "m.room.message",
        {"msgtype": "m.text", "body": "plain", "org.matrix.msc1767.message": _html_text(h)},
        ("org.matrix.msc1767.message", 1, "body")),
    "message org.matrix.msc1767.html": lambda h: (
        "m.room.message",
        {"msgtype": "m.text", "body": "plain", "org.matrix.msc1767.text": "plain",
         "org.matrix.msc1767.html": h},
        ("org.matrix.msc1767.html",)),
    "edit m.new_content m.text": lambda h: (
        "m.room.message",
        {"msgtype": "m.text", "body": "* new",
         "m.new_content": {"msgtype": "m.text", "body": "new", "m.text": _html_text(h)},
         "m.relates_to": {"rel_type": "m.replace", "event_id": "$orig"}},
        ("m.new_content", "m.text", 1, "body")),
    "m.message m.text": lambda h: ("m.message", {"m.text": _html_text(h)}, ("m.text", 1, "body")),
    "m.message m.html": lambda h: ("m.message", {"m.text": "plain", "m.html": h}, ("m.html",)),
    "m.emote m.text": lambda h: ("m.emote", {"m.text": _html_text(h)}, ("m.text", 1, "body")),
    "topic m.topic m.text (spec)": lambda h: (
        "m.room.topic", {"topic": "plain", "m.topic": {"m.text": _html_text(h)}},
        ("m.topic", "m.text", 1, "body")),
    "topic m.topic list (MSC3765)": lambda h: (
        "m.room.topic", {"topic": "plain", "m.topic": _html_text(h)}, ("m.topic", 1, "body")),
    "topic formatted_body": lambda h: (
        "m.room.topic", {"topic": "plain", "formatted_body": h}, ("formatted_body",)),
    "sticker formatted_body": lambda h: (
        "m.sticker",
        {"body": "a sticker", "url": "mxc://example.org/s", "info": {"mimetype": "image/png"},
         "format": HTML, "formatted_body": h},
        ("formatted_body",)),
    "unstable poll question html": lambda h: (
        "org.matrix.msc3381.poll.start",
        {"org.matrix.msc3381.poll.start": {
            "kind": "org.matrix.msc3381.poll.disclosed", "max_selections": 1,
            "question": {"org.matrix.msc1767.text": "q", "org.matrix.msc1767.html": h},
            "answers": [{"id": "a", "org.matrix.msc1767.text": "yes"}]},
         "org.matrix.msc1767.text": "q"},
        ("org.matrix.msc3381.poll.start", "question", "org.matrix.msc1767.html")),
    "unstable poll answer message list": lambda h: (
        "org.matrix.msc3381.poll.start",
        {"org.matrix.msc3381.poll.start": {
            "question": {"org.matrix.msc1767.text": "q"},
            "answers": [{"id": "a", "org.matrix.msc1767.text": "yes"},
                        {"id": "b", "org.matrix.msc1767.message": _html_text(h)}]}},
        ("org.matrix.msc3381.poll.start", "answers", 1, "org.matrix.msc1767.message", 1, "body")),
    "poll question m.text": lambda h: (
        "m.poll.start",
        {"m.poll": {"kind": "m.disclosed", "max_selections": 1,
                    "question": {"m.text": _html_text(h)},
                    "answers": [{"m.id": "a", "m.text": [{"body": "yes"}]}]},
         "m.text": [{"body": "q"}]},
        ("m.poll", "question", "m.text", 1, "body")),
    "poll answer m.text": lambda h: (
        "m.poll.start",
        {"m.poll": {"question": {"m.text": [{"body": "q"}]},
                    "answers": [{"m.id": "a", "m.text": [{"body": "yes"}]},
                                {"m.id": "b", "m.text": _html_text(h)}]}},
        ("m.poll", "answers", 1, "m.text", 1, "body")),
    "poll fallback m.text": lambda h: (
        "m.poll.start", {"m.poll": {"question": {"m.text": [{"body": "q"}]}, "answers": []},
                         "m.text": _html_text(h)},
        ("m.text", 1, "body")),
    "poll end m.text": lambda h: (
        "m.poll.end",
        {"m.relates_to": {"rel_type": "m.reference", "event_id": "$poll"},
         "m.text": _html_text(h)},
        ("m.text", 1, "body")),
    "poll edit m.new_content": lambda h: (
        "m.poll.start",
        {"m.new_content": {"m.poll": {"question": {"m.text": _html_text(h)}, "answers": []}},
         "m.relates_to": {"rel_type": "m.replace", "event_id": "$poll"}},
        ("m.new_content", "m.poll", "question", "m.text", 1, "body")),
    "custom event nested formatted_body": lambda h: (
        "com.example.card", {"card": {"title": "t", "formatted_body": h}},
        ("card", "formatted_body")),
    "custom state event representation": lambda h: (
        "com.example.banner", {"lines": [[{"mimetype": "text/html", "body": h}]]},
        ("lines", 0, 0, "body")),
    "mimetype upper case": lambda h: (
        "m.message", {"m.text": _html_text(h, "TEXT/HTML")}, ("m.text", 1, "body")),
    "mimetype with parameters": lambda h: (
        "m.message", {"m.text": _html_text(h, " text/html; charset=utf-8")},
        ("m.text", 1, "body")),
    "mimetype xhtml": lambda h: (
        "m.message", {"m.text": _html_text(h, "application/xhtml+xml")}, ("m.text", 1, "body")),
}


def _at(content: Any, path: Path) -> Any:
    for key in path:
        content = content[key]
    return content


def _replaced(content: Any, path: Path, value: str) -> Any:
    """A deep copy of ``content`` with the value at ``path`` replaced."""
    if not path:
        return value
    if isinstance(content, list):
        return [_replaced(item, path[1:], value) if index == path[0] else item
                for index, item in enumerate(content)]
    return {key: _replaced(item, path[1:], value) if key == path[0] else item
            for key, item in content.items()}


@pytest.mark.parametrize("field", list(FIELDS))
def test_every_xss_payload_sanitised_in_field(field: str) -> None:
    """Each payload of the corpus, put in this field, comes out harmless; nothing else changes."""
    for name, payload in XSS_PAYLOADS:
        event_type, content, path = FIELDS[field](payload)
        verdict = check_content(event_type, content, LIMITS)
        assert isinstance(verdict, Rewrite), f"{name}: {verdict!r}"
        stored = _at(verdict.content, path)
        assert stored == sanitise_html(payload), name
        assert_harmless(stored)
        assert _replaced(verdict.content, path, payload) == content, f"{name}: more changed"


@pytest.mark.parametrize("field", list(FIELDS))
def test_safe_html_accepted_untouched_in_field(field: str) -> None:
    """Formatting already in the allowed form is stored exactly as sent, in every field."""
    event_type, content, _ = FIELDS[field]('<b>bold</b> <a href="https://matrix.org/">x</a>')
    assert check_content(event_type, content, LIMITS) is ACCEPT


def test_rewrite_names_every_changed_field() -> None:
    """Several HTML fields in one event are all sanitised and all named."""
    content = {"topic": "t", "m.topic": {"m.text": _html_text("<script>x</script>a")},
               "formatted_body": "<b onclick=x>b</b>", "m.html": "<i>fine</i>"}
    verdict = check_content("m.room.topic", content, LIMITS)
    assert isinstance(verdict, Rewrite)
    assert verdict.fields == ("m.topic.m.text[1].body", "formatted_body")
    assert [field.kind for field in verdict.changed] == ["html_representation", "formatted_body"]
    assert verdict.content["m.html"] == "<i>fine</i>"


@pytest.mark.parametrize(
    "content",
    [
        {"topic": "a < b & <b>c</b>", "m.topic": {"m.text": [{"body": "a < b <script>"}]}},
        {"topic": "t", "m.topic": [{"mimetype": "text/plain", "body": "<script>x</script>"}]},
        {"topic": "t", "m.topic": {"m.text": [{"mimetype": "text/markdown", "body": "<b>x"}]}},
        {"topic": "t", "body": "<script>", "info": {"mimetype": "text/html"}},
    ],
)
def test_plain_text_representations_untouched(content: dict[str, Any]) -> None:
    """Text that is not HTML (plain, markdown, no mimetype) is never rewritten."""
    assert check_content("m.room.topic", content, LIMITS) is ACCEPT


@pytest.mark.parametrize(
    ("event_type", "content", "message"),
    [
        ("m.room.topic", {"topic": "t", "m.topic": {"m.text": [
            {"mimetype": "text/html", "body": 5}]}},
         "'m.topic.m.text[0].body' must be a string, not a number"),
        ("m.room.topic", {"topic": "t", "m.topic": [{"mimetype": ["text/html"], "body": "<b>"}]},
         "'m.topic[0].mimetype' must be a string, not an array"),
        ("m.sticker", {"body": "s", "url": "mxc://a/b", "formatted_body": {"html": "<b>"}},
         "'formatted_body' must be a string, not an object"),
        ("m.message", {"m.text": "x", "m.html": ["<script>"]},
         "'m.html' must be a string, not an array"),
        ("org.matrix.msc3381.poll.start", {"org.matrix.msc3381.poll.start": {
            "question": {"org.matrix.msc1767.html": None}}},
         "'org.matrix.msc3381.poll.start.question.org.matrix.msc1767.html' must be a string, "
         "not null"),
    ],
)
def test_html_field_of_wrong_type_refused(
    event_type: str, content: dict[str, Any], message: str
) -> None:
    """An HTML field that is not a string cannot be checked, so the event is refused."""
    assert check_content(event_type, content, LIMITS) == Problem(WRONG_TYPE, message)


def test_too_deep_html_refused_by_field_name() -> None:
    """The nesting limit applies to every HTML field and names it."""
    content = {"topic": "t", "m.topic": {"m.text": _html_text("<div>" * 120 + "x")}}
    assert check_content("m.room.topic", content, LIMITS) == Problem(
        TOO_DEEP, "'m.topic.m.text[1].body' nests HTML tags 120 levels deep; "
                  "at most 100 are allowed")


def test_html_deep_inside_nested_json_found() -> None:
    """HTML below thousands of levels of JSON nesting is still found and sanitised."""
    content: dict[str, Any] = {"formatted_body": "<img src=x onerror=alert(1)>"}
    for _ in range(3000):
        content = {"n": [content]}
    verdict = check_content("com.example.deep", content, LIMITS)
    assert isinstance(verdict, Rewrite)
    inner: Any = verdict.content
    for _ in range(3000):
        inner = inner["n"][0]
    assert inner == {"formatted_body": ""}
