"""HTML sanitising of every HTML field to the Matrix specification's allow-list (pure).

The allow-list is the one the client-server specification gives for ``m.room.message``
(section "m.room.message msgtypes", v1.10 onwards), applied by nh3 (the Rust ``ammonia``
sanitiser, which parses with ``html5ever`` exactly as a browser does) rather than by
regular expressions. On top of the tag and attribute lists, every attribute value is checked:

- ``a href``: absolute URLs with a scheme of ``https``, ``http``, ``ftp``, ``mailto``,
  ``magnet`` (the spec's list) or ``matrix`` (the spec's own URI scheme, appendix
  "Matrix URI scheme", inert in a browser); relative URLs are removed as the spec asks.
- ``a target``: only ``_blank`` (``_top``/``_parent``/named frames could navigate the
  client's own window).
- ``img src``: only ``mxc://server/media-id`` URIs, so a message cannot make a client fetch
  an external URL (tracking pixels, IP leaks). An image left without a source is dropped
  and its ``alt`` text kept in its place as text, never left behind as a bare ``<img>``.
- ``data-mx-color``/``data-mx-bg-color``: ``#`` followed by six hex digits, as specified;
  ``font color``: a hex colour or a colour name.
- ``code class``: only ``language-*`` tokens; ``ol start`` and ``img`` sizes: integers.

``style`` attributes, event handlers, ``<script>``/``<style>`` and other active content,
comments and any other tag or attribute are removed. Two tags outside the spec's list are
kept because real clients still send them and they carry no behaviour: ``font`` (deprecated
in v1.10 in favour of ``span``, same attributes) and ``mx-reply`` (the rich-reply fallback
before v1.13; clients now strip it themselves, and stripping it here would change older
clients' replies).

The output is html5ever's serialisation: markup that is already in that form comes out
byte-for-byte unchanged; equivalent spellings are normalised (``<br />`` becomes ``<br>``,
``&quot;`` in text becomes ``"``, a valueless ``data-mx-spoiler`` gets ``=""``).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

# The specification's list (v1.10+), plus the two legacy tags explained above.
ALLOWED_TAGS: frozenset[str] = frozenset({
    "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol", "sup",
    "sub", "li", "b", "i", "u", "strong", "em", "s", "code", "hr", "br", "div", "table",
    "thead", "tbody", "tr", "th", "td", "caption", "pre", "span", "img", "details",
    "summary",
    "font", "mx-reply",
})

ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "font": frozenset({"data-mx-bg-color", "data-mx-color", "color"}),
    "span": frozenset({"data-mx-bg-color", "data-mx-color", "data-mx-spoiler", "data-mx-maths"}),
    "a": frozenset({"target", "href"}),
    "img": frozenset({"width", "height", "alt", "title", "src"}),
    "ol": frozenset({"start"}),
    "code": frozenset({"class"}),
    "div": frozenset({"data-mx-maths"}),
}

LINK_SCHEMES: frozenset[str] = frozenset({"https", "http", "ftp", "mailto", "magnet", "matrix"})

# Removed together with everything inside them (not just unwrapped): their content is
# code, styling or widget markup, never message text worth showing.
REMOVED_WITH_CONTENT: frozenset[str] = frozenset({
    "script", "style", "template", "textarea", "select", "option", "noscript", "noembed",
    "noframes", "iframe", "object", "embed", "applet", "svg", "math", "title", "xmp",
    "frameset", "frame",
})

# The spec: "Tags must not be nested more than 100 levels deep."
SPEC_MAX_NESTING_DEPTH = 100

VOID_ELEMENTS: frozenset[str] = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
    "param", "source", "track", "wbr", "frame", "basefont", "bgsound",
})

_MX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_FONT_COLOR = re.compile(r"#[0-9A-Fa-f]{6}|#[0-9A-Fa-f]{3}|[A-Za-z]{1,20}")
_LANGUAGE_CLASS = re.compile(r"language-[A-Za-z0-9_+#.\-]{1,64}")
_MXC = re.compile(r"mxc://[A-Za-z0-9.\-:\[\]]+/[A-Za-z0-9_\-]+")
_DIMENSION = re.compile(r"\d{1,5}")
_LIST_START = re.compile(r"-?\d{1,9}")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# What a browser's URL parser drops before reading the scheme: surrounding C0 controls and
# spaces, and tabs/newlines anywhere ("jav&#x09;ascript:" is "javascript:").
_URL_IGNORED = re.compile(r"[\t\n\r]")
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/>]*)")
# Elements whose start tag closes an open one of the same name (``<li>a<li>b``).
_SELF_CLOSING_SIBLINGS: frozenset[str] = frozenset({"p", "li", "dt", "dd", "tr", "td", "th"})


def _url_scheme(value: str) -> str | None:
    cleaned = _URL_IGNORED.sub("", value).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b"
                                                 "\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"
                                                 "\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
    match = _SCHEME.match(cleaned)
    return match.group(1).lower() if match else None


def filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """The value to keep for an allowed attribute, or None to drop it (nh3's callback).

    nh3 calls this only for attributes already on the allow-list, with entities decoded.
    """
    if attribute in ("data-mx-color", "data-mx-bg-color"):
        return value if _MX_COLOR.fullmatch(value) else None
    if attribute == "color":
        return value if _FONT_COLOR.fullmatch(value) else None
    if tag == "a" and attribute == "href":
        return value if _url_scheme(value) in LINK_SCHEMES else None
    if tag == "a" and attribute == "target":
        return value if value == "_blank" else None
    if tag == "img" and attribute == "src":
        return value if _MXC.fullmatch(value) else None
    if tag == "img" and attribute in ("width", "height"):
        return value if _DIMENSION.fullmatch(value) else None
    if tag == "ol" and attribute == "start":
        return value if _LIST_START.fullmatch(value) else None
    if tag == "code" and attribute == "class":
        kept = [token for token in value.split() if _LANGUAGE_CLASS.fullmatch(token)]
        return " ".join(kept) if kept else None
    # alt, title, data-mx-spoiler (a reason) and data-mx-maths (LaTeX) are free text; the
    # serialiser escapes them.
    return value


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(REMOVED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    attribute_filter=filter_attribute,
    strip_comments=True,
    link_rel=None,  # the spec leaves rel="noopener" to web clients; keep links as sent
    url_schemes=set(LINK_SCHEMES | {"mxc"}),  # per-attribute schemes: filter_attribute
    url_relative="deny",
)


class _SourcelessImages(HTMLParser):
    """Finds the ``<img>`` start tags left without a ``src``, with their alt text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[tuple[int, int], str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "img":
            return
        values = dict(attrs)
        if "src" not in values:
            tag_text = self.get_starttag_text() or ""
            self.found.append((self.getpos(), tag_text, values.get("alt") or ""))


def _drop_sourceless_images(clean: str) -> str:
    """``clean`` with every image that has no allowed source replaced by its alt text.

    An ``<img>`` whose ``src`` was removed shows nothing but a broken-image frame (or, in a
    careless client, fetches whatever it is given later); its alt text is what the sender
    meant readers to see. The result is cleaned once more so the inserted text is escaped
    exactly as the sanitiser's own output is.
    """
    if "<img" not in clean:
        return clean
    finder = _SourcelessImages()
    finder.feed(clean)
    finder.close()
    if not finder.found:
        return clean
    line_starts = [0]
    for text_line in clean.split("\n")[:-1]:
        line_starts.append(line_starts[-1] + len(text_line) + 1)
    pieces: list[str] = []
    position = 0
    for (line_number, column), tag_text, alt in finder.found:
        start = line_starts[line_number - 1] + column
        pieces.extend((clean[position:start], html.escape(alt, quote=False)))
        position = start + len(tag_text)
    pieces.append(clean[position:])
    return _CLEANER.clean("".join(pieces))


def sanitise_html(html: str) -> str:
    """``html`` reduced to the allowed tags and attributes, safe to render in a browser."""
    return _drop_sourceless_images(_CLEANER.clean(html))


def rough_nesting_depth(html: str, stop_above: int) -> int:
    """A fast estimate of how deep ``html`` nests tags, from its raw tag sequence.

    Counts like a naive parser: start tags (other than void elements) open, an end tag closes
    back to its matching start tag, stray end tags are ignored, ``<p>``/``<li>``/``<td>``-like
    start tags replace an open sibling of the same name. Parsing deeply nested markup
    costs html5ever time quadratic in the depth, so this runs first and lets the caller
    refuse absurd input cheaply; the exact limit is applied to the sanitised output by
    :func:`nesting_depth`. Stops counting once the depth exceeds ``stop_above``.
    """
    stack: list[str] = []
    deepest = 0
    for closing, raw_name in _TAG.findall(html):
        name = raw_name.lower()
        if closing:
            if name in stack:
                while stack.pop() != name:
                    pass
            continue
        if name in VOID_ELEMENTS:
            continue
        if name in _SELF_CLOSING_SIBLINGS and stack and stack[-1] == name:
            stack.pop()
        stack.append(name)
        if len(stack) > deepest:
            deepest = len(stack)
            if deepest > stop_above:
                break
    return deepest


class _DepthCounter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.deepest = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID_ELEMENTS:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_ELEMENTS:
            self.depth -= 1


def nesting_depth(sanitised_html: str) -> int:
    """How deep the tags of :func:`sanitise_html`'s output nest (0 for plain text).

    The sanitiser's output is well formed (every element closed, in order, no raw-text
    elements), so counting start and end tags gives the depth of the tree exactly.
    """
    counter = _DepthCounter()
    counter.feed(sanitised_html)
    counter.close()
    return counter.deepest
