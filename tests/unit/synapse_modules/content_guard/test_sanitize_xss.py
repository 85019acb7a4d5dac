"""Content guard sanitiser: XSS payloads come out harmless, legitimate formatting survives."""

from __future__ import annotations

import re

import pytest

# An independent, WHATWG-conformant parser (the html5lib that Synapse's dependency bleach
# vendors): what it builds from our output is what a browser would build.
from bleach._vendor import html5lib  # type: ignore[import-untyped]

from hearth.synapse_modules.content_guard.sanitize import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    LINK_SCHEMES,
    nesting_depth,
    rough_nesting_depth,
    sanitise_html,
)

XSS_PAYLOADS: list[tuple[str, str]] = [
    ("script", "<script>alert(1)</script>hello"),
    ("script-src-upper", '<SCRIPT SRC="//evil.example/x.js"></SCRIPT>'),
    ("script-split-nested", "<scr<script>ipt>alert(1)</scr</script>ipt>"),
    ("script-in-attribute-junk", '<img """><script>alert(1)</script>">'),
    ("img-onerror", "<img src=x onerror=alert(1)>"),
    ("img-mxc-onerror", '<img src="mxc://example.org/abc" onerror="alert(1)">'),
    ("img-javascript-src", "<IMG SRC=\"javascript:alert('XSS');\">"),
    ("img-eval-src", "<img src=x:alert(alt) onerror=eval(src) alt=0>"),
    ("img-external-tracker", '<img src="https://tracker.example/pixel.gif">'),
    ("img-data-svg", '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">'),
    ("img-src-quote-break", '<img src="mxc://evil/x&quot; onerror=&quot;alert(1)">'),
    ("a-javascript", '<a href="javascript:alert(1)">click</a>'),
    ("a-javascript-mixed-case", '<a href="JaVaScRiPt:alert(1)">click</a>'),
    ("a-javascript-tab-entity", '<a href="jav&#x09;ascript:alert(1)">click</a>'),
    ("a-javascript-newline-entity", '<a href="jav&#x0A;ascript:alert(1)">click</a>'),
    ("a-javascript-raw-newline", '<a href="java\nscript:alert(1)">click</a>'),
    ("a-javascript-decimal-entities",
     '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">c</a>'),
    ("a-javascript-colon-entity", '<a href="&#x6A;avascript&colon;alert(1)">click</a>'),
    ("a-javascript-leading-space", '<a href="  javascript:alert(1)">click</a>'),
    ("a-javascript-control-char", '<a href="\x01javascript:alert(1)">click</a>'),
    ("a-vbscript", '<a href="vbscript:msgbox(1)">click</a>'),
    ("a-data-html", '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">c</a>'),
    ("a-data-html-escaped", '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">c</a>'),
    ("a-relative", '<a href="/_synapse/admin/v1/deactivate">click</a>'),
    ("a-mxc-href", '<a href="mxc://example.org/abc">file</a>'),
    ("a-onclick", '<a href="https://ok.example/" onclick="alert(1)">click</a>'),
    ("a-quote-injection", '<a href="https://ok.example/"" onclick="alert(1)">click</a>'),
    ("a-target-top", '<a href="https://ok.example/" target="_top">click</a>'),
    ("a-rel-opener", '<a href="https://ok.example/" target="_blank" rel="opener">click</a>'),
    ("a-xlink", '<a href="https://ok.example/" xlink:href="javascript:alert(1)">click</a>'),
    ("a-overlay-style",
     '<a href="https://ok.example/" style="position:fixed;top:0;left:0;width:100%">overlay</a>'),
    ("svg-onload", "<svg onload=alert(1)>"),
    ("svg-script", "<svg><script>alert(1)</script></svg>"),
    ("svg-a-xlink", '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>'),
    ("svg-animate", '<svg><animate onbegin=alert(1) attributeName=x dur=1s>'),
    ("math-mglyph-style-mxss",
     "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"),
    ("math-xlink", '<math><mi xlink:href="javascript:alert(1)">x</mi></math>'),
    ("iframe-javascript", '<iframe src="javascript:alert(1)"></iframe>'),
    ("iframe-srcdoc", '<iframe srcdoc="<script>alert(1)</script>"></iframe>'),
    ("object-data", '<object data="javascript:alert(1)"></object>'),
    ("embed-src", '<embed src="javascript:alert(1)">'),
    ("style-element", "<style>body{background:url(javascript:alert(1))}</style>text"),
    ("style-attr-url", '<span style="background:url(javascript:alert(1))">x</span>'),
    ("style-attr-expression", '<div style="width: expression(alert(1))">x</div>'),
    ("mx-color-css-injection", '<span data-mx-color="red;background:url(x)">x</span>'),
    ("font-color-breakout", '<font color="#fff&quot; onmouseover=&quot;alert(1)">x</font>'),
    ("b-onmouseover", "<b onmouseover=alert(1)>x</b>"),
    ("slash-separated-handler", "<p/onclick=alert(1)>x"),
    ("unknown-element-handler", "<x onclick=alert(1)>x</x>"),
    ("comment-hidden-img", "<!--<img src=x onerror=alert(1)>-->"),
    ("comment-abrupt-close", "<!--><img src=x onerror=alert(1)>-->"),
    ("cdata", "<![CDATA[<img src=x onerror=alert(1)>]]>"),
    ("noscript-mxss", '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>'),
    ("textarea-rawtext", "<textarea><img src=x onerror=alert(1)></textarea>"),
    ("title-rcdata", "<title><img src=x onerror=alert(1)></title>"),
    ("template", "<template><script>alert(1)</script></template>"),
    ("select-option", "<select><option><img src=x onerror=alert(1)></option></select>"),
    ("form-action", '<form action="javascript:alert(1)"><button>go</button></form>'),
    ("input-autofocus", "<input onfocus=alert(1) autofocus>"),
    ("details-ontoggle", "<details open ontoggle=alert(1)><summary>s</summary>x</details>"),
    ("meta-refresh", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'),
    ("base-href", '<base href="javascript:alert(1)//">'),
    ("link-stylesheet", '<link rel=stylesheet href="https://evil.example/x.css">'),
    ("video-source-onerror", '<video><source onerror="alert(1)"></video>'),
    ("marquee-onstart", "<marquee onstart=alert(1)>x</marquee>"),
    ("body-onload", "<body onload=alert(1)>x</body>"),
    ("unclosed-tags", '<div><b><i>unclosed <a href="javascript:alert(1)">x'),
    ("table-cell-img", "<table><tr><td><img src=x onerror=alert(1)></td></tr></table>"),
    ("code-class-injection", '<code class="language-x onclick=alert(1) mx_Dialog">x</code>'),
    ("mx-reply-handler", '<mx-reply onclick="alert(1)"><blockquote>q</blockquote></mx-reply>r'),
    ("span-handler-with-spoiler", '<span data-mx-spoiler="" onclick="alert(1)">s</span>'),
    ("id-and-class-clobbering", '<div id="matrixchat" class="mx_Dialog">x</div>'),
]


def _browser_tree(html: str) -> list[tuple[str, dict[str, str]]]:
    fragment = html5lib.parseFragment(
        html, container="div", treebuilder="etree", namespaceHTMLElements=False
    )
    return [(el.tag, dict(el.attrib)) for el in fragment.iter() if el.tag != "DOCUMENT_FRAGMENT"]


_IGNORED_IN_URL = re.compile(r"[\x00-\x20]")


def assert_harmless(output: str) -> None:
    """What a browser builds from ``output`` holds only allowed elements and safe attributes."""
    for tag, attributes in _browser_tree(output):
        assert tag in ALLOWED_TAGS, f"element {tag!r} survived in {output!r}"
        allowed = ALLOWED_ATTRIBUTES.get(tag, frozenset())
        for name, value in attributes.items():
            assert name in allowed, f"attribute {name!r} on {tag!r} survived in {output!r}"
            squashed = _IGNORED_IN_URL.sub("", value).lower()
            if name == "href":
                assert squashed.split(":", 1)[0] in LINK_SCHEMES, output
            if name == "src":
                assert squashed.startswith("mxc://"), output
            if name == "target":
                assert value == "_blank", output
            if name in ("data-mx-color", "data-mx-bg-color"):
                assert re.fullmatch(r"#[0-9a-f]{6}", squashed), output
            if name == "class":
                assert all(t.startswith("language-") for t in value.split()), output
    # Stable under re-sanitising: what the sanitiser emits, it would emit again unchanged
    # (no mutation on reparse, the root of mutation-XSS).
    assert sanitise_html(output) == output


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
        ("<img src=x onerror=alert(1)>", "<img>"),
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
