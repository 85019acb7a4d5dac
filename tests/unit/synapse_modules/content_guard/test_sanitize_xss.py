"""Content guard sanitiser: XSS payloads come out harmless, legitimate formatting survives."""

from __future__ import annotations

import re

import pytest

from hearth.synapse_modules.content_guard.sanitize import (
    nesting_depth,
    rough_nesting_depth,
    sanitise_html,
)
from tests.unit.synapse_modules.content_guard.xss_corpus import XSS_PAYLOADS, assert_harmless


@pytest.mark.parametrize(("name", "payload"), XSS_PAYLOADS, ids=[n for n, _ in XSS_PAYLOADS])
def test_xss_payload_comes_out_harmless(name: str, payload: str) -> None:
    """Each payload of the corpus leaves no script, handler, style or unsafe URL behind."""
    output = sanitise_html(payload)
    assert_harmless(output)
    lowered = output.lower()
    assert "<script" not in lowered and "<iframe" not in lowered and "<svg" not in lowered
    assert " on" not in re.sub(r">[^<]*<", "><", lowered)  # no on* attribute in any tag


def test_corpus_is_large_and_varied() -> None:
    """The corpus holds at least forty distinct payloads."""
    assert len(XSS_PAYLOADS) >= 40
    assert len({n for n, _ in XSS_PAYLOADS}) == len(XSS_PAYLOADS)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("<script>alert(1)</script>hello", "hello"),
        ('<a href="javascript:alert(1)">click</a>', "<a>click</a>"),
        ('<a href="https://ok.example/" onclick="alert(1)">click</a>',
         '<a href="https://ok.example/">click</a>'),
        ('<a href="https://ok.example/" target="_top">x</a>', '<a href="https://ok.example/">x</a>'),
        ("<img src=x onerror=alert(1)>", ""),
        ('<span style="color:red" data-mx-color="#ff0000">x</span>',
         '<span data-mx-color="#ff0000">x</span>'),
        ("<svg onload=alert(1)>", ""),
        ("<b>unclosed <i>tags", "<b>unclosed <i>tags</i></b>"),
        ("<scr<script>ipt>alert(1)</script>", "ipt&gt;alert(1)"),
        ('<code class="language-python evil">x</code>', '<code class="language-python">x</code>'),
        ("<details open ontoggle=alert(1)><summary>s</summary>x</details>",
         "<details><summary>s</summary>x</details>"),
    ],
)
def test_dangerous_parts_removed_text_kept(payload: str, expected: str) -> None:
    """Only the dangerous parts go: text and allowed markup around them stay."""
    assert sanitise_html(payload) == expected


LEGITIMATE: list[str] = [
    "<b>bold</b> <i>italic</i> <strong>strong</strong> <em>em</em> <u>under</u> <s>strike</s> "
    "<del>deleted</del> x<sup>2</sup> H<sub>2</sub>O",
    '<a href="https://matrix.org/">https</a> <a href="http://example.org/a?b=1&amp;c=2">http</a> '
    '<a href="mailto:alice@example.org">mail</a> <a href="ftp://ftp.example.org/f">ftp</a> '
    '<a href="magnet:?xt=urn:btih:abc">magnet</a>',
    '<a href="https://matrix.to/#/@alice:example.org">Alice</a> '
    '<a href="https://matrix.to/#/!room:example.org/$event?via=example.org">event</a> '
    '<a href="matrix:u/alice:example.org?action=chat">matrix URI</a>',
    '<a href="https://example.org/" target="_blank">new tab</a>',
    '<pre><code class="language-python">def f(x):\n    return x &lt; 2 and x &gt; 0\n</code></pre>',
    "<code>inline code</code>",
    '<ul><li>one</li><li>two<ol start="3"><li>three</li><li>four</li></ol></li></ul>',
    "<table><caption>Results</caption><thead><tr><th>name</th><th>score</th></tr></thead>"
    "<tbody><tr><td>alice</td><td>3</td></tr></tbody></table>",
    '<span data-mx-spoiler="">the butler did it</span> '
    '<span data-mx-spoiler="plot twist">everyone lives</span>',
    '<span data-mx-color="#ff0000" data-mx-bg-color="#00FF00">colours</span> '
    '<font color="red">old red</font> <font data-mx-color="#0000ff">old blue</font>',
    '<img src="mxc://example.org/abcDEF123_-" alt="a cat" title="A cat" width="32" height="32">',
    '<mx-reply><blockquote><a href="https://matrix.to/#/!room:example.org/$ev">In reply to</a> '
    '<a href="https://matrix.to/#/@bob:example.org">@bob:example.org</a><br>original'
    "</blockquote></mx-reply>the reply",
    "<h1>one</h1><h2>two</h2><h3>three</h3><h4>four</h4><h5>five</h5><h6>six</h6>",
    "<p>para one</p><hr><p>para two<br>line two</p><blockquote><p>quoted</p></blockquote>",
    "<details><summary>more</summary>hidden text</details>",
    '<div data-mx-maths="\\frac{a}{b}">a/b</div> <span data-mx-maths="x^2">x<sup>2</sup></span>',
    "héllo 🎉 <b>日本語</b> &amp; a &lt; b",
    "plain text, no markup at all",
]


@pytest.mark.parametrize("html", LEGITIMATE)
def test_legitimate_formatting_survives_exactly(html: str) -> None:
    """Spec-conformant formatting comes out byte-for-byte as it went in."""
    assert sanitise_html(html) == html


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("line one<br />line two", "line one<br>line two"),
        ("<hr/>", "<hr>"),
        ("<span data-mx-spoiler>secret</span>", '<span data-mx-spoiler="">secret</span>'),
        ("He said &quot;hi&quot;", 'He said "hi"'),
        ("<a href='https://example.org/'>x</a>", '<a href="https://example.org/">x</a>'),
        ("a\u00a0b", "a&nbsp;b"),
    ],
)
def test_equivalent_spellings_normalised(sent: str, stored: str) -> None:
    """Other spellings of the same safe markup come out in one canonical form."""
    assert sanitise_html(sent) == stored


def test_nesting_depth_counts_elements_not_voids() -> None:
    """Depth counts nested elements; br/hr/img do not nest."""
    assert nesting_depth("plain") == 0
    assert nesting_depth("<b><i>x</i></b><br><img alt=\"&lt;b&gt;\">") == 2
    assert nesting_depth("<div>" * 100 + "</div>" * 100) == 100


def test_rough_depth_bounds_raw_markup() -> None:
    """The raw estimate follows naive nesting, closes siblings like li, and stops early."""
    assert rough_nesting_depth("<ul><li>a<li>b<li>c</ul>", 50) == 2
    assert rough_nesting_depth("<b><i></b>" * 3, 50) == 2  # </b> closes the i inside it too
    assert rough_nesting_depth("<div></span>" * 3, 50) == 3  # stray end tags are ignored
    assert rough_nesting_depth("<div>" * 1000, 50) == 51


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("<img src=x onerror=alert(1)>", ""),
        ('<img src="https://tracker.example/pixel.gif" alt="a cat">', "a cat"),
        ('<p>see <img src="javascript:alert(1)" alt="the diagram"> here</p>',
         "<p>see the diagram here</p>"),
        ('<img alt="no source at all" title="t" width="3">', "no source at all"),
        ("<img>", ""),
        ('<img src="data:image/png;base64,AAAA" alt="x &lt;b&gt; &amp; y">',
         "x &lt;b&gt; &amp; y"),
        ('<img src="mxc://evil/x&quot; onerror=&quot;alert(1)" alt="q">', "q"),
        ('<b><img src="//evil.example/a.png" alt="one"><img src="mxc://example.org/ok" alt="two">'
         "</b>", '<b>one<img src="mxc://example.org/ok" alt="two"></b>'),
        ('<img src="mxc://example.org/ok" alt="kept">',
         '<img src="mxc://example.org/ok" alt="kept">'),
    ],
)
def test_image_without_allowed_source_dropped_alt_kept(payload: str, expected: str) -> None:
    """An image whose source is removed leaves its alt text, never a bare <img>."""
    output = sanitise_html(payload)
    assert output == expected
    assert_harmless(output)
