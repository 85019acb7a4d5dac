"""The XSS payload corpus and the browser-side check of sanitised output, shared by the tests.

Every HTML-carrying field of every event type is tested with the same payloads (unit tests over
the pure layer, integration tests against a real server), so the corpus lives here once.
"""

from __future__ import annotations

import re

# An independent, WHATWG-conformant parser (the html5lib that Synapse's dependency bleach
# vendors): what it builds from our output is what a browser would build.
from bleach._vendor import html5lib  # type: ignore[import-untyped]

from hearth.synapse_modules.content_guard.sanitize import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    LINK_SCHEMES,
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
        # An image whose source was removed is dropped, never left behind as a bare <img>.
        assert tag != "img" or "src" in attributes, f"image without a source in {output!r}"
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
