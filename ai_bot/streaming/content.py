"""Event contents of a streamed answer: the first message, live edits, the final edit."""

from __future__ import annotations

import json
from typing import Any

from hearth.ai_bot.render import markdown_to_html
from hearth.ai_bot.routing import LIVE_KEY

# Synapse refuses events over 64 KiB (M_TOO_LARGE), envelope included, and Megolm makes an
# encrypted event about a third larger than its content: keep contents well below.
MAX_CONTENT_BYTES = 45_000
FALLBACK_PREVIEW_CHARS = 500


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


def content_size(content: dict[str, Any]) -> int:
    """Bytes of ``content`` as JSON (compact, UTF-8, as the homeserver measures events)."""
    return len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def fit_content(content: dict[str, Any], max_bytes: int = MAX_CONTENT_BYTES) -> dict[str, Any]:
    """``content``, shrunk if it would make too large an event. The text is never cut: first
    the edit's fallback loses its HTML, then its text becomes a preview (clients that
    understand edits show ``m.new_content``), and only then does the message lose its HTML
    (HTML-escaping can make formatted_body several times longer than the text)."""
    if content_size(content) <= max_bytes:
        return content
    fitted = dict(content)
    new_content = fitted.get("m.new_content")
    if isinstance(new_content, dict):
        fitted.pop("format", None)
        fitted.pop("formatted_body", None)
        if content_size(fitted) <= max_bytes:
            return fitted
        body = str(fitted.get("body", ""))
        if len(body) > FALLBACK_PREVIEW_CHARS:
            fitted["body"] = body[:FALLBACK_PREVIEW_CHARS] + "…"
        if content_size(fitted) <= max_bytes:
            return fitted
        new_content = dict(new_content)
        new_content.pop("format", None)
        new_content.pop("formatted_body", None)
        fitted["m.new_content"] = new_content
        return fitted
    fitted.pop("format", None)
    fitted.pop("formatted_body", None)
    return fitted
