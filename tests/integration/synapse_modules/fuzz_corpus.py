"""Malformed client-server request bodies: every shape of bad body, every field mistyped.

Two kinds of case, both sent raw (not through a Matrix SDK, which would refuse to build them):

- ``SHAPES``: bodies that are not what any endpoint expects (not JSON, not an object, invalid
  UTF-8, lone surrogates, deep nesting, huge sizes, a wrong content type), for every endpoint.
- ``field_cases``: an endpoint's plausible body with one field at a time replaced by a value of
  the wrong kind (``WRONG_VALUES``), for every field the endpoint reads, nested ones included.

No case carries a correct password, so none can deactivate, re-key or log in an account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Malformed:
    """One request body and the content type it is sent with ("" for none)."""

    name: str
    body: bytes
    content_type: str = JSON_TYPE


@dataclass(frozen=True)
class Raw:
    """JSON text spliced into a body as a field's value (what ``json.dumps`` cannot write)."""

    text: bytes


DEEP = 100_000
SHAPES: tuple[Malformed, ...] = (
    Malformed("empty", b""),
    Malformed("whitespace", b" \n\t "),
    Malformed("array", b"[]"),
    Malformed("array-of-object", b'[{"type": "m.login.password"}]'),
    Malformed("string", b'"text"'),
    Malformed("number", b"42"),
    Malformed("null", b"null"),
    Malformed("true", b"true"),
    Malformed("truncated", b'{"type": '),
    Malformed("unquoted-key", b"{type: 1}"),
    Malformed("single-quotes", b"{'type': 'x'}"),
    Malformed("trailing-garbage", b"{} trailing"),
    Malformed("two-objects", b"{}{}"),
    Malformed("trailing-comma", b'{"a": 1,}'),
    Malformed("nan", b'{"a": NaN}'),
    Malformed("infinity", b'{"a": -Infinity}'),
    Malformed("huge-exponent", b'{"a": 1e99999}'),
    Malformed("huge-integer", b'{"a": ' + b"9" * 5000 + b"}"),
    Malformed("duplicate-keys", b'{"a": 1, "a": {"b": 2}}'),
    Malformed("lone-high-surrogate", b'{"a": "\\ud800"}'),
    Malformed("lone-low-surrogate-key", b'{"\\udc00": 1}'),
    Malformed("reversed-surrogates", b'{"a": "\\udc00\\ud800"}'),
    Malformed("nul-escape", b'{"a": "\\u0000"}'),
    Malformed("control-character", b'{"a": "\x01"}'),
    Malformed("invalid-utf8", b'{"a": "\xff\xfe"}'),
    Malformed("overlong-utf8", b'{"a": "\xc0\xaf"}'),
    Malformed("encoded-surrogate", b'{"a": "\xed\xa0\x80"}'),
    Malformed("truncated-utf8", b'{"a": "\xe2\x82"}'),
    Malformed("utf16", '{"a": 1}'.encode("utf-16")),
    Malformed("bom", b"\xef\xbb\xbf{}"),
    Malformed("deep-array", b"[" * DEEP + b"]" * DEEP),
    Malformed("deep-object", b'{"a":' * DEEP + b"1" + b"}" * DEEP),
    Malformed("deep-unclosed", b"[" * DEEP),
    Malformed("huge-string", b'{"a": "' + b"x" * 2_000_000 + b'"}'),
    Malformed("many-keys", json.dumps({f"k{i}": i for i in range(50_000)}).encode()),
    Malformed("text-plain", b"{}", "text/plain"),
    Malformed("form", b"type=m.login.password&password=x", "application/x-www-form-urlencoded"),
    Malformed("multipart", b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n',
              "multipart/form-data; boundary=b"),
    Malformed("no-content-type", b"{}", ""),
)


def _nested(depth: int) -> Raw:
    return Raw(b'{"a":' * depth + b"1" + b"}" * depth)


WRONG_VALUES: tuple[tuple[str, Any], ...] = (
    ("int", 1),
    ("negative", -1),
    ("float", 1.5),
    ("huge-int", 2**70),
    ("bool", True),
    ("null", None),
    ("list", ["x"]),
    ("object", {"x": 1}),
    ("empty-string", ""),
    ("huge-string", "x" * 100_000),
    ("nul", "a\u0000b"),
    ("non-ascii-digits", "\u0661\u0662\u0663\u0664\u0665\u0666"),
    ("lone-surrogate", Raw(b'"\\ud800"')),
    ("invalid-utf8", Raw(b'"\xff"')),
    ("deep", _nested(5_000)),
)


def _replaced(body: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A copy of ``body`` with the value at ``path`` replaced."""
    if not path:
        return value
    copy: Any = dict(body) if isinstance(body, dict) else list(body)
    copy[path[0]] = _replaced(body[path[0]], path[1:], value)
    return copy


def _paths(body: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every field of ``body``, nested ones included (list items by index)."""
    items = body.items() if isinstance(body, dict) else enumerate(body) \
        if isinstance(body, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


def encode(body: Any) -> bytes:
    """``body`` as JSON, with each ``Raw`` value spliced in as it is."""
    spliced: list[bytes] = []

    def placeholder(value: Any) -> str:
        if isinstance(value, Raw):
            spliced.append(value.text)
            return f"__raw_{len(spliced) - 1}__"
        raise TypeError(type(value).__name__)

    text = json.dumps(body, default=placeholder).encode("utf-8")
    for index, raw in enumerate(spliced):
        text = text.replace(f'"__raw_{index}__"'.encode(), raw)
    return text


def field_cases(template: dict[str, Any]) -> Iterator[Malformed]:
    """The template with each of its fields, in turn, set to each wrong value."""
    for path in _paths(template):
        name = ".".join(str(part) for part in path)
        for kind, value in WRONG_VALUES:
            yield Malformed(f"{name}={kind}", encode(_replaced(template, path, value)))


def cases(template: dict[str, Any] | None) -> list[Malformed]:
    """Every case for an endpoint: the shapes, then (with a template) the field cases."""
    return [*SHAPES, *(field_cases(template) if template is not None else ())]
