"""Markdown → sanitised HTML for ``formatted_body`` (markdown-it-py, then nh3).

Raw HTML in the model's Markdown is not interpreted (it comes out as text); the result is then
cleaned with the tags and attributes the Matrix spec suggests clients accept, and links may
only use web, mail and Matrix schemes.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol", "sup",
    "sub", "li", "b", "i", "u", "strong", "em", "s", "code", "hr", "br", "div", "table",
    "thead", "tbody", "tr", "th", "td", "caption", "pre", "span", "details", "summary",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "ol": {"start"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"https", "http", "mailto", "matrix"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(
    ["table", "strikethrough"]
)


def sanitise(html: str) -> str:
    """Keep only what Matrix clients render safely."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def markdown_to_html(text: str) -> str:
    """Render the model's Markdown as sanitised HTML (no trailing newline)."""
    return sanitise(_markdown.render(text)).strip()
