"""Request screening: refuse malformed client-server bodies before Synapse's servlets see them.

Synapse 1.163 answers some malformed bodies with a 500 or not at all: a lone surrogate or an
infinite float in event content, a login or user-interactive-auth ``identifier`` that is not an
object, a mistyped ``/delete_devices`` or cross-signing key body. The gate (``gate.py``) calls
:func:`screen` for every ``POST``/``PUT`` under ``/_matrix/client/``; a refusal is answered
there as a Matrix error, anything accepted reaches Synapse byte for byte. The rules know a few
shapes and refuse when one of them is wrong (fail closed); bodies they do not know pass as they
are. Media uploads are binary and never parsed.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter

REQUESTS_REFUSED = Counter(
    "hearth_requests_refused_total",
    "Client-server requests refused before Synapse for a malformed body, by reason "
    "(not_json, invalid_utf8, non_finite_number, lone_surrogate, too_deep, not_object, "
    "content_type, bad_field, check_failed)",
    ["server_name", "reason"],
)

# Deeper than any Matrix body needs; far below Python's recursion limit, which Synapse hits.
MAX_DEPTH = 100
SCREENED_METHODS = frozenset({b"POST", b"PUT"})
CLIENT_PREFIX = b"/_matrix/client/"
_VERSION = rb"/_matrix/client/(?:api/v1|r0|v3|unstable)"
_MEDIA = re.compile(rb"^/_matrix/client/[^/]+/(?:[^/]+/)?media/")
_LOGIN = re.compile(_VERSION + rb"/login/?$")
_DELETE_DEVICES = re.compile(_VERSION + rb"/delete_devices/?$")
_CREATE_ROOM = re.compile(_VERSION + rb"/createRoom/?$")
_DEVICE_SIGNING = re.compile(rb"^/_matrix/client/(?:r0|v3|unstable)/keys/device_signing/upload/?$")
_SURROGATE = re.compile("[\ud800-\udfff]")

IDENTIFIER_FIELDS = ("type", "user", "medium", "address", "country", "phone")
# Top-level string fields of a login body and of a UIA ``auth`` dict (null means absent).
CREDENTIAL_FIELDS = ("user", "token", "session", "medium", "address")
# Secrets the password checker judges itself (a malformed one is a counted, named failure:
# 400 M_INVALID_PARAM or a wrong code), so the screen leaves their values alone at /login.
LOGIN_SECRETS = frozenset({("password",), ("code",)})
AUTH_SECRETS = frozenset({("auth", "password"), ("auth", "code")})
LOGIN_ONLY_FIELDS = ("device_id", "initial_device_display_name")
NUL_FREE_FIELDS = frozenset({"user", "medium", "address", "country", "phone", "type",
                             "state_key", "room_alias_name"})
CROSS_SIGNING_KEYS = ("master_key", "self_signing_key", "user_signing_key")


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: HTTP status, Matrix errcode, a readable message, the reason
    label of ``hearth_requests_refused_total``."""

    status: int
    errcode: str
    message: str
    reason: str

    def body(self) -> bytes:
        return json.dumps({"errcode": self.errcode, "error": self.message}).encode()


class _Malformed(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Malformed("non_finite_number", f"The number {text[:40]} is out of range")
    return value


def _no_constant(text: str) -> Any:
    raise _Malformed("non_finite_number", f"{text} is not valid JSON")


def parse_strict(raw: bytes, skipped: frozenset[tuple[str, ...]] = frozenset()) -> Any:
    """``raw`` as JSON, refusing what Synapse cannot handle (raises :class:`_Malformed`).

    ``skipped``: paths (of at most two keys) whose string values are not checked for lone
    surrogates, because a checker downstream judges them.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Malformed("invalid_utf8", f"The body is not valid UTF-8 (byte {error.start})"
                         ) from None
    try:
        value = json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    except _Malformed:
        raise
    except RecursionError:
        raise _Malformed("too_deep", f"The body is nested deeper than {MAX_DEPTH} levels"
                         ) from None
    except ValueError as error:
        raise _Malformed("not_json", f"The body is not valid JSON: {error}") from None
    _check_values(value, skipped)
    return value


def _check_values(value: Any, skipped: frozenset[tuple[str, ...]]) -> None:
    """Refuse lone surrogates in any key or string, and nesting deeper than MAX_DEPTH."""
    stack: list[tuple[Any, int, tuple[str, ...] | None]] = [(value, 1, ())]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            if path not in skipped and _SURROGATE.search(item):
                raise _Malformed("lone_surrogate", "The body contains a lone UTF-16 surrogate "
                                 "(an unpaired \\ud800-\\udfff escape)")
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise _Malformed("too_deep",
                                 f"The body is nested deeper than {MAX_DEPTH} levels")
            if isinstance(item, dict):
                stack.extend((key, depth, None) for key in item)
                stack.extend((child, depth + 1, _child_path(path, key))
                             for key, child in item.items())
            else:
                stack.extend((child, depth + 1, None) for child in item)


def _child_path(path: tuple[str, ...] | None, key: str) -> tuple[str, ...] | None:
    """The path of an object member, kept only as deep as a skipped path can be."""
    return (*path, key) if path is not None and len(path) < 2 else None


def _bad(field: str, expected: str) -> _Malformed:
    return _Malformed("bad_field", f"'{field}' must be {expected}")


def _string(body: dict[str, Any], key: str, where: str, nullable: bool) -> None:
    if key not in body or (nullable and body[key] is None):
        return
    value = body[key]
    if not isinstance(value, str):
        raise _bad(where + key, "a string")
    if key in NUL_FREE_FIELDS and "\x00" in value:
        raise _bad(where + key, "a string without NUL characters")


def check_credentials(body: dict[str, Any], where: str, login: bool) -> None:
    """The fields of a login body (``login``) or a UIA ``auth`` dict that Synapse reads."""
    _string(body, "type", where, nullable=not login)
    # At /login the checker names a mistyped password itself (400 M_INVALID_PARAM).
    for key in CREDENTIAL_FIELDS + (LOGIN_ONLY_FIELDS if login else ("password",)):
        _string(body, key, where, nullable=True)
    if "identifier" in body:
        identifier = body["identifier"]
        if not isinstance(identifier, dict):
            raise _bad(where + "identifier", "an object")
        for key in IDENTIFIER_FIELDS:
            _string(identifier, key, f"{where}identifier.", nullable=False)


def _check_auth(body: dict[str, Any]) -> None:
    auth = body.get("auth")
    if auth is None:
        return
    if not isinstance(auth, dict):
        raise _bad("auth", "an object")
    check_credentials(auth, "auth.", login=False)


def _check_delete_devices(body: dict[str, Any]) -> None:
    devices = body.get("devices")
    if not isinstance(devices, list) or not all(isinstance(d, str) for d in devices):
        raise _bad("devices", "a list of device ID strings")


def _string_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def _check_cross_signing_key(body: dict[str, Any], name: str) -> None:
    key = body[name]
    if not isinstance(key, dict):
        raise _bad(name, "an object")
    if not isinstance(key.get("user_id"), str):
        raise _bad(f"{name}.user_id", "a string")
    usage = key.get("usage")
    if not isinstance(usage, list) or not all(isinstance(u, str) for u in usage):
        raise _bad(f"{name}.usage", "a list of strings")
    if not _string_map(key.get("keys")):
        raise _bad(f"{name}.keys", "an object of key strings")
    signatures = key.get("signatures")
    if signatures is not None and not (
            isinstance(signatures, dict) and all(_string_map(s) for s in signatures.values())):
        raise _bad(f"{name}.signatures", "an object of objects of signature strings")


def _check_initial_state(body: dict[str, Any]) -> None:
    """``/createRoom``'s ``initial_state``: a NUL in a type or state key cannot be stored
    (PostgreSQL); Synapse's own checks let it reach the database."""
    _string(body, "room_alias_name", "", nullable=True)
    events = body.get("initial_state")
    if events is None:
        return
    if not isinstance(events, list):
        raise _bad("initial_state", "a list of state events")
    for number, event in enumerate(events):
        if not isinstance(event, dict):
            raise _bad(f"initial_state.{number}", "an object")
        _string(event, "type", f"initial_state.{number}.", nullable=False)
        _string(event, "state_key", f"initial_state.{number}.", nullable=False)


def _check_shapes(path: bytes, body: Any) -> None:
    """The endpoint rules; each needs an object body, which Synapse expects everywhere."""
    known = _LOGIN.match(path) or _DELETE_DEVICES.match(path) or _DEVICE_SIGNING.match(path)
    if not isinstance(body, dict):
        if known:
            raise _Malformed("not_object", "The body must be a JSON object")
        return
    if _LOGIN.match(path):
        check_credentials(body, "", login=True)
        return
    _check_auth(body)
    if _DELETE_DEVICES.match(path):
        _check_delete_devices(body)
    elif _CREATE_ROOM.match(path):
        _check_initial_state(body)
    elif _DEVICE_SIGNING.match(path):
        for name in CROSS_SIGNING_KEYS:
            if name in body:
                _check_cross_signing_key(body, name)


def _content_type(value: bytes | None) -> bytes:
    return (value or b"").split(b";", 1)[0].strip().lower()


def screened(method: bytes, path: bytes) -> bool:
    """Whether requests of this method and path are screened (JSON client endpoints only)."""
    return (method in SCREENED_METHODS and path.startswith(CLIENT_PREFIX)
            and not _MEDIA.match(path))


def screen(method: bytes, path: bytes, content_type: bytes | None, raw: bytes
           ) -> Refusal | None:
    """The refusal for this request, or None to let it through to Synapse unchanged."""
    if not screened(method, path):
        return None
    if _content_type(content_type) == b"multipart/form-data":
        return Refusal(415, "M_NOT_JSON", "multipart/form-data is not accepted here; send "
                       "the body as application/json", "content_type")
    if not raw:
        if _DELETE_DEVICES.match(path):
            return Refusal(400, "M_NOT_JSON", "The body must be a JSON object", "not_object")
        return None  # Synapse decides which endpoints take an empty body
    try:
        skipped = AUTH_SECRETS | (LOGIN_SECRETS if _LOGIN.match(path) else frozenset())
        _check_shapes(path, parse_strict(raw, skipped))
    except _Malformed as error:
        code = "M_NOT_JSON" if error.reason in {"not_json", "invalid_utf8"} else "M_BAD_JSON"
        return Refusal(400, code, error.message, error.reason)
    return None
