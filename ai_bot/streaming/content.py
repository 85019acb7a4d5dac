"""Event contents of a streamed answer: the first message, live edits, the final edit."""

from __future__ import annotations

from typing import Any

from ai_bot.render import markdown_to_html
from ai_bot.routing import LIVE_KEY


def _body(text: str, msgtype: str, live: bool, html: bool) -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": msgtype, "body": text}
    if html:
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = markdown_to_html(text)
    if live:
        content[LIVE_KEY] = {}
    return content


def message_content(
    text: str, relation: dict[str, Any] | None, *, msgtype: str, live: bool
) -> dict[str, Any]:
    """A new message: live (plain text, marker on) or complete (with sanitised HTML)."""
    content = _body(text, msgtype, live, html=not live)
    content["m.mentions"] = {}
    if relation:
        content["m.relates_to"] = dict(relation)
    return content


def edit_content(event_id: str, text: str, *, msgtype: str, live: bool) -> dict[str, Any]:
    """An m.replace edit of ``event_id``; the final one (live=False) carries the HTML."""
    new_content = _body(text, msgtype, live, html=not live)
    content = _body("* " + text, msgtype, live, html=False)
    if not live:
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = "* " + new_content["formatted_body"]
    content["m.new_content"] = new_content
    content["m.mentions"] = {}
    content["m.relates_to"] = {"rel_type": "m.replace", "event_id": event_id}
    return content


def split_for_size(text: str, max_bytes: int) -> tuple[str, str]:
    """Split ``text`` so the head fits ``max_bytes`` (UTF-8), at a paragraph, line or word
    boundary when there is one in the second half; a code fence left open is closed in the
    head and reopened in the tail."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text, ""
    limit = max_bytes - 8  # room for a closing fence
    head = encoded[:limit].decode("utf-8", errors="ignore")
    cut = len(head)
    for separator in ("\n\n", "\n", " "):
        index = head.rfind(separator)
        if index >= len(head) // 2:
            cut = index + len(separator)
            break
    head, tail = text[:cut], text[cut:]
    fences = [line for line in head.splitlines() if line.lstrip().startswith("```")]
    if len(fences) % 2 == 1:
        head = head.rstrip("\n") + "\n```"
        tail = fences[-1].strip() + "\n" + tail
    return head.rstrip(), tail.lstrip(" ")
