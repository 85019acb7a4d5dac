"""Markdown → sanitised HTML for formatted_body."""

from __future__ import annotations

from hearth.ai_bot.render import markdown_to_html


def test_render_markdown_basics() -> None:
    """Emphasis, code blocks with language, tables and strikethrough render."""
    html = markdown_to_html("**b** _i_\n\n```py\nx = 1\n```\n\n| a |\n|---|\n| 1 |\n\n~~s~~")
    assert "<strong>b</strong>" in html and "<em>i</em>" in html
    assert '<code class="language-py">' in html
    assert "<table>" in html and "<s>s</s>" in html


def test_render_raw_html_and_bad_links_are_neutralised() -> None:
    """Raw HTML is text, javascript: links are not links, web links get rel=noopener."""
    html = markdown_to_html('<script>alert(1)</script> <img src=x onerror=y> [a](javascript:x) '
                            "[b](https://example.org)")
    assert "<script>" not in html and "<img" not in html
    assert 'href="javascript' not in html
    assert '<a href="https://example.org" rel="noopener noreferrer">b</a>' in html
