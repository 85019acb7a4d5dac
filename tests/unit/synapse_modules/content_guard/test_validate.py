"""Content guard decisions: malformed content refused with a clear reason, HTML rewritten."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from hearth.synapse_modules.content_guard.message_verdict import ACCEPT, Rewrite, check_message
from hearth.synapse_modules.content_guard.validate import (
    MISSING_FIELD,
    TOO_DEEP,
    TOO_LARGE,
    WRONG_TYPE,
    Limits,
    Problem,
    validate_message,
)

LIMITS = Limits(max_body_bytes=1000, max_formatted_body_bytes=2000)
HTML = "org.matrix.custom.html"


def _text(**extra: Any) -> dict[str, Any]:
    return {"msgtype": "m.text", "body": "hello", **extra}


def _edit(new_content: Any, **extra: Any) -> dict[str, Any]:
    return _text(**{"m.new_content": new_content,
                    "m.relates_to": {"rel_type": "m.replace", "event_id": "$orig"}}, **extra)


@pytest.mark.parametrize(
    ("content", "reason", "message"),
    [
        ({"msgtype": "m.text"}, MISSING_FIELD, "'body' is required in an m.room.message"),
        ({"body": "hi"}, MISSING_FIELD, "'msgtype' is required in an m.room.message"),
        (_text(body=42), WRONG_TYPE, "'body' must be a string, not a number"),
        (_text(body=None), WRONG_TYPE, "'body' must be a string, not null"),
        (_text(body=["a"]), WRONG_TYPE, "'body' must be a string, not an array"),
        (_text(msgtype=True), WRONG_TYPE, "'msgtype' must be a string, not a boolean"),
        (_text(format=1), WRONG_TYPE, "'format' must be a string, not a number"),
        (_text(format=HTML, formatted_body={"html": "<b>x</b>"}), WRONG_TYPE,
         "'formatted_body' must be a string, not an object"),
        (_text(body="x" * 1001), TOO_LARGE, "'body' is 1001 bytes long; at most 1000 are allowed"),
        (_text(body="é" * 501), TOO_LARGE, "'body' is 1002 bytes long; at most 1000 are allowed"),
        (_text(formatted_body="x" * 2001), TOO_LARGE,
         "'formatted_body' is 2001 bytes long; at most 2000 are allowed"),
        (_text(msgtype="m." + "x" * 300), TOO_LARGE,
         "'msgtype' is 302 bytes long; at most 255 are allowed"),
        (_text(**{"m.relates_to": "$event"}), WRONG_TYPE,
         "'m.relates_to' must be an object, not a string"),
        (_text(**{"m.relates_to": {"rel_type": "m.thread"}}), MISSING_FIELD,
         "'m.relates_to.event_id' is required with a rel_type"),
        (_text(**{"m.relates_to": {"rel_type": "m.thread", "event_id": 5}}), WRONG_TYPE,
         "'m.relates_to.event_id' must be a string, not a number"),
        (_text(**{"m.relates_to": {"rel_type": "m.thread", "event_id": "$r",
                                   "is_falling_back": "yes"}}), WRONG_TYPE,
         "'m.relates_to.is_falling_back' must be a boolean, not a string"),
        (_text(**{"m.relates_to": {"m.in_reply_to": "$e"}}), WRONG_TYPE,
         "'m.relates_to.m.in_reply_to' must be an object, not a string"),
        (_text(**{"m.relates_to": {"m.in_reply_to": {}}}), MISSING_FIELD,
         "'m.relates_to.m.in_reply_to.event_id' is required in an m.room.message"),
        (_text(**{"m.relates_to": {"rel_type": "m.replace", "event_id": "$e"}}), MISSING_FIELD,
         "'m.new_content' is required in an edit (m.replace)"),
        (_edit("new text"), WRONG_TYPE, "'m.new_content' must be an object, not a string"),
        (_edit({"msgtype": "m.text"}), MISSING_FIELD,
         "'m.new_content.body' is required in an m.room.message"),
        (_edit({"msgtype": "m.text", "body": "b", "formatted_body": 3}), WRONG_TYPE,
         "'m.new_content.formatted_body' must be a string, not a number"),
    ],
)
def test_malformed_content_refused_with_reason(
    content: dict[str, Any], reason: str, message: str
) -> None:
    """Wrong types, missing fields and oversized fields each give one clear problem."""
    assert validate_message(content, LIMITS) == Problem(reason, message)
    assert check_message(content, LIMITS) == Problem(reason, message)


@pytest.mark.parametrize(
    "content",
    [
        _text(),
        _text(body=""),
        _text(body="x" * 1000),
        {"msgtype": "m.image", "body": "cat.png", "url": "mxc://example.org/abc",
         "info": {"w": 10, "h": 10, "mimetype": "image/png"}},
        _text(format=HTML, formatted_body="<b>hello</b>"),
        _text(**{"m.relates_to": {"m.in_reply_to": {"event_id": "$parent"}}}),
        _text(**{"m.relates_to": {"rel_type": "m.thread", "event_id": "$root",
                                  "is_falling_back": True,
                                  "m.in_reply_to": {"event_id": "$last"}}}),
        _edit({"msgtype": "m.text", "body": "fixed"}),
        _text(**{"m.mentions": {"user_ids": ["@bob:example.org"]}, "com.example.custom": [1]}),
    ],
)
def test_wellformed_content_accepted_untouched(content: dict[str, Any]) -> None:
    """Valid content with nothing to sanitise is accepted as sent."""
    assert validate_message(content, LIMITS) is None
    assert check_message(content, LIMITS) is ACCEPT


def test_unsafe_html_rewritten_body_untouched() -> None:
    """Only formatted_body changes; body and every other key are kept as sent."""
    content = _text(body="<script>alert(1)</script> **hi**", format=HTML,
                    formatted_body='<b onclick="alert(1)">hi</b><script>alert(1)</script>',
                    **{"m.mentions": {}})
    verdict = check_message(content, LIMITS)
    assert isinstance(verdict, Rewrite)
    assert verdict.content == {**content, "formatted_body": "<b>hi</b>"}
    assert verdict.fields == ("formatted_body",)
    assert content["formatted_body"].startswith("<b onclick")  # the input is not mutated


def test_edit_new_content_sanitised_too() -> None:
    """An edit's m.new_content.formatted_body is sanitised like the top-level one."""
    content = _edit(
        {"msgtype": "m.text", "body": "new", "format": HTML,
         "formatted_body": '<a href="javascript:alert(1)">new</a>'},
        format=HTML, formatted_body="* <b>new</b>",
    )
    verdict = check_message(content, LIMITS)
    assert isinstance(verdict, Rewrite)
    assert verdict.fields == ("m.new_content.formatted_body",)
    assert verdict.content["formatted_body"] == "* <b>new</b>"
    assert verdict.content["m.new_content"]["formatted_body"] == "<a>new</a>"
    assert verdict.content["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$orig"}


def test_frozen_event_content_rewritten_as_plain_json() -> None:
    """Read-only mappings (as Synapse's events hold) come back as plain dicts and lists."""
    content = MappingProxyType({
        "msgtype": "m.text", "body": "x", "formatted_body": "<i>x</i><style>a</style>",
        "m.mentions": MappingProxyType({"user_ids": ("@a:example.org",)}),
    })
    verdict = check_message(content, LIMITS)
    assert isinstance(verdict, Rewrite)
    assert verdict.content == {"msgtype": "m.text", "body": "x", "formatted_body": "<i>x</i>",
                               "m.mentions": {"user_ids": ["@a:example.org"]}}


def test_nesting_beyond_spec_limit_refused() -> None:
    """100 levels are allowed; 101 are refused, and absurd depth is refused before parsing."""
    ok = "<div>" * 100 + "x" + "</div>" * 100
    assert check_message(_text(formatted_body=ok), Limits()) is ACCEPT
    deep = check_message(_text(formatted_body="<div>" * 101 + "x"), Limits())
    assert deep == Problem(TOO_DEEP, "'formatted_body' nests HTML tags 101 levels deep; "
                                     "at most 100 are allowed")
    absurd = check_message(_text(formatted_body="<ul>" * 5000), Limits())
    assert isinstance(absurd, Problem) and absurd.reason == TOO_DEEP
    assert "opens more than 500 HTML tags" in absurd.message
    # Depth built by the parser itself (reconstructed formatting elements) is caught after.
    rebuilt = check_message(_text(formatted_body="<p><b x></p>y" * 200), Limits())
    assert isinstance(rebuilt, Problem) and rebuilt.reason == TOO_DEEP


def test_deep_edit_refused_by_field_name() -> None:
    """A too-deep m.new_content.formatted_body is named in the refusal."""
    verdict = check_message(
        _edit({"msgtype": "m.text", "body": "b", "formatted_body": "<b>" * 150}), Limits()
    )
    assert isinstance(verdict, Problem)
    assert verdict.message.startswith("'m.new_content.formatted_body' nests HTML tags 150")
