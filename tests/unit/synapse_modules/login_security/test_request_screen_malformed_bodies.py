"""The request screen: every malformed shape it knows refused with a Matrix error, the rest
passed to Synapse untouched, and the body stream left where Synapse reads it."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from typing import Any

import pytest
from twisted.web.http_headers import Headers

from hearth.synapse_modules.login_security.gate import (
    ClientAddressGate,
    RefusalResource,
    screen_request,
)
from hearth.synapse_modules.login_security.request_notes import RequestNotes
from hearth.synapse_modules.login_security.request_screen import (
    CREDENTIAL_FIELDS,
    CROSS_SIGNING_KEYS,
    IDENTIFIER_FIELDS,
    LOGIN_ONLY_FIELDS,
    MAX_DEPTH,
    Refusal,
    screen,
)

LOGIN = b"/_matrix/client/v3/login"
LOGIN_PATHS = [LOGIN, b"/_matrix/client/r0/login", b"/_matrix/client/api/v1/login",
               b"/_matrix/client/unstable/login"]
SEND = b"/_matrix/client/v3/rooms/!r:hs/send/m.room.message/t1"
UIA_PATHS = [b"/_matrix/client/v3/delete_devices", b"/_matrix/client/v3/account/password",
             b"/_matrix/client/v3/account/deactivate",
             b"/_matrix/client/v3/keys/device_signing/upload"]
DELETE_DEVICES = b"/_matrix/client/v3/delete_devices"
SIGNING = b"/_matrix/client/v3/keys/device_signing/upload"
JSON = b"application/json"
WRONG_FOR_STRING: list[Any] = [1, 1.5, True, ["x"], {"x": 1}]


def _login_body() -> dict[str, Any]:
    return {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "@a:hs"},
            "password": "pw", "device_id": "D", "initial_device_display_name": "d"}


def _key() -> dict[str, Any]:
    return {"user_id": "@a:hs", "usage": ["master"], "keys": {"ed25519:k": "k"},
            "signatures": {"@a:hs": {"ed25519:d": "sig"}}}


def _verdict(path: bytes, body: Any, method: bytes = b"POST",
             content_type: bytes | None = JSON) -> Refusal | None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return screen(method, path, content_type, raw)


def _refused(path: bytes, body: Any, method: bytes = b"POST") -> Refusal:
    refusal = _verdict(path, body, method)
    assert refusal is not None, body
    assert refusal.status in {400, 415} and refusal.errcode in {"M_NOT_JSON", "M_BAD_JSON"}
    assert json.loads(refusal.body()) == {"errcode": refusal.errcode, "error": refusal.message}
    return refusal


BAD_JSON = {
    "lone-high-surrogate": b'{"a": "\\ud800"}',
    "lone-low-surrogate-key": b'{"\\udc00": 1}',
    "nested-surrogate": b'{"a": {"b": ["x", "\\udbff"]}}',
    "reversed-surrogates": b'{"a": "\\udc00\\ud800"}',
    "nan": b'{"a": NaN}',
    "infinity": b'{"a": -Infinity}',
    "huge-exponent": b'{"a": 1e99999}',
    "nested-huge-exponent": b'{"a": [{"b": -1e400}]}',
    "huge-integer": b'{"a": ' + b"9" * 5000 + b"}",
    "invalid-utf8": b'{"a": "\xff\xfe"}',
    "overlong-utf8": b'{"a": "\xc0\xaf"}',
    "encoded-surrogate": b'{"a": "\xed\xa0\x80"}',
    "truncated": b'{"type": ',
    "trailing-garbage": b"{} trailing",
    "whitespace": b" \n ",
    "bom": b"\xef\xbb\xbf{}",
    "too-deep": b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1),
    "recursion-deep": b"[" * 100_000 + b"]" * 100_000,
}


class TestStrictJson:
    """Every client POST/PUT body is parsed strictly, whatever the endpoint."""

    @pytest.mark.parametrize("name", list(BAD_JSON))
    @pytest.mark.parametrize("path", [SEND, LOGIN, *UIA_PATHS,
                                      b"/_matrix/client/v3/createRoom",
                                      b"/_matrix/client/v3/rooms/!r:hs/state/m.room.topic/"])
    def test_malformed_json_refused(self, name: str, path: bytes) -> None:
        """Each malformed body is a 400 naming the problem, on every endpoint."""
        method = b"PUT" if b"/send/" in path or b"/state/" in path else b"POST"
        refusal = _refused(path, BAD_JSON[name], method)
        assert refusal.status == 400

    def test_depth_limit_is_inclusive(self) -> None:
        """Nesting up to the limit passes."""
        body = b'{"a":' * (MAX_DEPTH - 1) + b"1" + b"}" * (MAX_DEPTH - 1)
        assert _verdict(SEND, body, b"PUT") is None

    @pytest.mark.parametrize("body", [
        {"msgtype": "m.text", "body": "h\u00e9llo \U0001f600"}, {"a": 1.5, "b": 2**70},
        {"a": "a\u0000b"}, [], "text", 42, None, {"a": 1, "a2": [None, True]}])
    def test_well_formed_bodies_pass(self, body: Any) -> None:
        """Valid JSON reaches Synapse, whatever its top level at endpoints the screen does not
        know (Synapse decides those)."""
        assert _verdict(SEND, body, b"PUT") is None

    def test_duplicate_keys_pass(self) -> None:
        """Duplicate keys are valid JSON; Synapse keeps the last."""
        assert _verdict(SEND, b'{"a": 1, "a": {"b": 2}}', b"PUT") is None

    @pytest.mark.parametrize("path", [
        b"/_matrix/client/v1/media/upload", b"/_matrix/client/v1/media/create",
        b"/_matrix/client/unstable/org.matrix.msc3916/media/upload",
        b"/_matrix/media/v3/upload", b"/_matrix/federation/v1/send/1", b"/_hearth/x"])
    def test_binary_and_other_paths_never_parsed(self, path: bytes) -> None:
        """Media uploads and paths outside /_matrix/client/ are not screened."""
        assert _verdict(path, b"\xff\xd8\xff binary \\ud800", b"POST") is None

    @pytest.mark.parametrize("method", [b"GET", b"DELETE", b"OPTIONS"])
    def test_other_methods_not_screened(self, method: bytes) -> None:
        """Only POST and PUT bodies are screened."""
        assert _verdict(SEND, b'{"a": NaN}', method) is None

    def test_empty_body_left_to_synapse(self) -> None:
        """An empty body passes (Synapse decides which endpoints take one)."""
        assert screen(b"POST", b"/_matrix/client/v3/logout", JSON, b"") is None

    @pytest.mark.parametrize("content_type", [
        b"multipart/form-data; boundary=b", b"Multipart/Form-Data", b" multipart/form-data"])
    @pytest.mark.parametrize("method", [b"POST", b"PUT"])
    def test_multipart_refused_415(self, content_type: bytes, method: bytes) -> None:
        """A multipart body on a JSON endpoint is a 415 Matrix error."""
        refusal = screen(method, SEND, content_type, b"--b--")
        assert refusal is not None and (refusal.status, refusal.errcode) == (415, "M_NOT_JSON")

    @pytest.mark.parametrize("content_type", [b"text/plain", None, b""])
    def test_other_content_types_judged_by_body(self, content_type: bytes | None) -> None:
        """Synapse reads the body as JSON whatever the content type: so does the screen."""
        assert screen(b"POST", LOGIN, content_type, b"{}") is None
        assert screen(b"POST", LOGIN, content_type, b"type=x") is not None


class TestLoginFields:
    """/login (every version) and the UIA ``auth`` dict: every field the servlets read."""

    @pytest.mark.parametrize("path", LOGIN_PATHS)
    def test_plausible_login_passes(self, path: bytes) -> None:
        """The usual login body passes, as does TOTP's with its code."""
        assert _verdict(path, _login_body()) is None
        assert _verdict(path, {**_login_body(), "type": "org.hearth.login.totp",
                               "code": "123456"}) is None

    @pytest.mark.parametrize("path", LOGIN_PATHS)
    @pytest.mark.parametrize("body", [[], "x", 1, None, [{"type": "m.login.password"}]])
    def test_login_body_not_object_refused(self, path: bytes, body: Any) -> None:
        """A login body must be an object."""
        assert _refused(path, body).reason == "not_object"

    @pytest.mark.parametrize("value", [*WRONG_FOR_STRING, None])
    def test_login_type_not_string_refused(self, value: Any) -> None:
        """``type`` must be a string."""
        assert "'type'" in _refused(LOGIN, {**_login_body(), "type": value}).message

    @pytest.mark.parametrize("field", CREDENTIAL_FIELDS + LOGIN_ONLY_FIELDS)
    @pytest.mark.parametrize("value", WRONG_FOR_STRING)
    def test_login_string_field_mistyped_refused(self, field: str, value: Any) -> None:
        """Each top-level string field refuses other kinds, naming the field."""
        refusal = _refused(LOGIN, {**_login_body(), field: value})
        assert f"'{field}'" in refusal.message and refusal.errcode == "M_BAD_JSON"

    @pytest.mark.parametrize("field", CREDENTIAL_FIELDS + LOGIN_ONLY_FIELDS)
    def test_login_optional_field_null_passes(self, field: str) -> None:
        """Null stands for an absent optional field, as Synapse reads it."""
        assert _verdict(LOGIN, {**_login_body(), field: None}) is None

    @pytest.mark.parametrize("value", [*WRONG_FOR_STRING[:4], None])
    def test_identifier_not_object_refused(self, value: Any) -> None:
        """``identifier`` must be an object."""
        assert "'identifier'" in _refused(LOGIN, {**_login_body(), "identifier": value}).message

    @pytest.mark.parametrize("field", IDENTIFIER_FIELDS)
    @pytest.mark.parametrize("value", [*WRONG_FOR_STRING, None, "a\u0000b"])
    def test_identifier_field_mistyped_or_nul_refused(self, field: str, value: Any) -> None:
        """Each identifier field must be a string without NUL."""
        body = _login_body()
        body["identifier"] = {**body["identifier"], field: value}
        assert f"'identifier.{field}'" in _refused(LOGIN, body).message

    @pytest.mark.parametrize("field", ["user", "medium", "address"])
    def test_top_level_names_with_nul_refused(self, field: str) -> None:
        """A NUL cannot be stored (PostgreSQL): refused where a name is read."""
        assert _verdict(LOGIN, {**_login_body(), field: "a\u0000b"}) is not None

    @pytest.mark.parametrize("path", LOGIN_PATHS)
    @pytest.mark.parametrize("field", ["password", "code"])
    @pytest.mark.parametrize("value", [*WRONG_FOR_STRING, None, "pass\ud800word"])
    def test_login_secrets_left_to_the_checker(self, path: bytes, field: str, value: Any
                                               ) -> None:
        """A malformed password or code at /login reaches the checker, which refuses it as a
        counted failure naming the field (400 M_INVALID_PARAM or a wrong code)."""
        assert _verdict(path, {**_login_body(), "code": "1", field: value}) is None

    @pytest.mark.parametrize("field", ["password", "code"])
    def test_auth_secret_surrogate_left_to_the_checker(self, field: str) -> None:
        """In a UIA ``auth`` too; but a surrogate anywhere else in the body is refused."""
        auth = {**_login_body(), field: "\ud800"}
        assert _verdict(DELETE_DEVICES, {"auth": auth, "devices": ["D"]}) is None
        assert _verdict(DELETE_DEVICES, {"auth": auth, "devices": ["\ud800"]}) is not None
        assert _verdict(DELETE_DEVICES, {"auth": {**auth, "user": "\udc00"},
                                         "devices": ["D"]}) is not None
        assert _verdict(SEND, {field: "\ud800"}, b"PUT") is not None
        assert _verdict(SEND, {"x": {field: "\ud800"}}, b"PUT") is not None

    def test_password_with_nul_passes(self) -> None:
        """A password is never stored; a NUL in it is only a wrong password."""
        assert _verdict(LOGIN, {**_login_body(), "password": "a\u0000b"}) is None

    @pytest.mark.parametrize("path", UIA_PATHS)
    @pytest.mark.parametrize("value", ["x", 1, ["x"], True])
    def test_auth_not_object_refused(self, path: bytes, value: Any) -> None:
        """A UIA ``auth`` must be an object (null: no auth yet)."""
        assert "'auth'" in _refused(path, {"auth": value, "devices": []}).message
        assert _verdict(path, {"auth": None, "devices": []}) is None

    @pytest.mark.parametrize("path", UIA_PATHS)
    @pytest.mark.parametrize("field", ["type", "password", *CREDENTIAL_FIELDS])
    @pytest.mark.parametrize("value", WRONG_FOR_STRING)
    def test_auth_field_mistyped_refused(self, path: bytes, field: str, value: Any) -> None:
        """Each string field of ``auth`` refuses other kinds, naming ``auth.<field>``."""
        auth = {"type": "m.login.password", "session": "s", field: value}
        assert f"'auth.{field}'" in _refused(path, {"auth": auth, "devices": []}).message

    @pytest.mark.parametrize("path", UIA_PATHS)
    @pytest.mark.parametrize("field", IDENTIFIER_FIELDS)
    @pytest.mark.parametrize("value", [*WRONG_FOR_STRING, None, "a\u0000b"])
    def test_auth_identifier_field_refused(self, path: bytes, field: str, value: Any) -> None:
        """Each ``auth.identifier`` field must be a string without NUL."""
        auth = {**_login_body(), "identifier": {"type": "m.id.user", "user": "@a:hs",
                                                field: value}}
        message = _refused(path, {"auth": auth, "devices": []}).message
        assert f"'auth.identifier.{field}'" in message

    @pytest.mark.parametrize("path", UIA_PATHS)
    def test_auth_session_only_passes(self, path: bytes) -> None:
        """A UIA continuation with only a session (no type) passes."""
        assert _verdict(path, {"auth": {"session": "s"}, "devices": ["D"]}) is None

    def test_auth_checked_at_any_client_endpoint(self) -> None:
        """``auth`` is read wherever Synapse does UIA, so it is checked on every body."""
        path = b"/_matrix/client/v3/keys/device_signing/upload"
        assert _verdict(path, {"auth": {"identifier": "x"}}) is not None
        assert _verdict(b"/_matrix/client/v3/register", {"auth": {"type": 1}}) is not None


class TestEndpointShapes:
    """/delete_devices and /keys/device_signing/upload bodies."""

    @pytest.mark.parametrize("body", [b"", b"[]", b'"x"', b"null", b"{}",
                                      b'{"devices": "D"}', b'{"devices": null}',
                                      b'{"devices": [1]}', b'{"devices": [["D"]]}',
                                      b'{"devices": ["D", null]}'])
    def test_delete_devices_needs_a_list_of_strings(self, body: bytes) -> None:
        """The body must be an object whose ``devices`` is a list of strings."""
        _refused(DELETE_DEVICES, body)

    def test_delete_devices_plausible_passes(self) -> None:
        """A list of device IDs passes."""
        assert _verdict(DELETE_DEVICES, {"devices": ["A", "B"]}) is None
        assert _verdict(DELETE_DEVICES, {"devices": []}) is None

    @pytest.mark.parametrize("name", CROSS_SIGNING_KEYS)
    def test_plausible_keys_pass(self, name: str) -> None:
        """Each key of the spec's shape passes, signatures optional."""
        assert _verdict(SIGNING, {name: _key()}) is None
        key = _key()
        del key["signatures"]
        assert _verdict(SIGNING, {name: key}) is None

    @pytest.mark.parametrize("name", CROSS_SIGNING_KEYS)
    @pytest.mark.parametrize(("field", "value"), [
        (None, "x"), (None, None), (None, ["x"]),
        ("user_id", 1), ("user_id", None), ("usage", "master"), ("usage", [1]),
        ("usage", None), ("keys", ["k"]), ("keys", {"ed25519:k": 1}), ("keys", None),
        ("signatures", "s"), ("signatures", {"@a:hs": "sig"}),
        ("signatures", {"@a:hs": {"ed25519:d": 1}})])
    def test_mistyped_key_refused(self, name: str, field: str | None, value: Any) -> None:
        """Every field of every key refuses other shapes, naming the field."""
        key: Any = value if field is None else {**_key(), field: value}
        message = _refused(SIGNING, {name: key}).message
        assert f"'{name}" in message and (field is None or field in message)


class TestCreateRoom:
    """/createRoom's initial state: names PostgreSQL can store."""

    PATH = b"/_matrix/client/v3/createRoom"

    def test_plausible_initial_state_passes(self) -> None:
        """Ordinary initial state (state key optional) passes."""
        body = {"initial_state": [{"type": "m.room.topic", "state_key": "",
                                   "content": {"topic": "x"}},
                                  {"type": "m.room.name", "content": {"name": "n"}}],
                "room_alias_name": "alias"}
        assert _verdict(self.PATH, body) is None

    @pytest.mark.parametrize("field", ["type", "state_key"])
    @pytest.mark.parametrize("value", [*WRONG_FOR_STRING, None, "a\u0000b"])
    def test_state_event_names_refused(self, field: str, value: Any) -> None:
        """A state event's type and state key must be strings without NUL."""
        event = {"type": "m.room.topic", "state_key": "", "content": {}, field: value}
        message = _refused(self.PATH, {"initial_state": [event]}).message
        assert f"'initial_state.0.{field}'" in message

    @pytest.mark.parametrize("value", ["x", 1, {"type": "t"}, ["x"]])
    def test_initial_state_shape_refused(self, value: Any) -> None:
        """``initial_state`` must be a list of objects."""
        assert _verdict(self.PATH, {"initial_state": value}) is not None

    def test_alias_with_nul_refused(self) -> None:
        """``room_alias_name`` with a NUL is refused."""
        assert _verdict(self.PATH, {"room_alias_name": "a\u0000b"}) is not None


class _Request:
    """What the gate reads of a Twisted request."""

    def __init__(self, path: bytes, body: bytes, method: bytes = b"POST",
                 content_type: bytes = JSON) -> None:
        self.method = method
        self.path = path
        self.content = io.BytesIO(body)
        self.requestHeaders = Headers({b"content-type": [content_type]})
        self.request_id_header = None
        self.client = SimpleNamespace(host="192.0.2.7")
        self.code = 200
        self.headers: dict[bytes, bytes] = {}

    def get_request_id(self) -> str:
        return "POST-1"

    def notifyFinish(self) -> Any:
        from twisted.internet import defer
        return defer.Deferred()

    def setResponseCode(self, code: int) -> None:
        self.code = code

    def setHeader(self, name: bytes, value: bytes) -> None:
        self.headers[name] = value


class TestGate:
    """The gate answers refusals itself and leaves accepted bodies as Synapse reads them."""

    def test_refusal_answered_by_the_gate(self) -> None:
        """A refused body gets the gate's Matrix error, not Synapse's servlet."""
        request = _Request(SEND, b'{"a": "\\ud800"}', b"PUT")
        child = ClientAddressGate(RequestNotes(), []).getChildWithDefault(b"client", request)
        assert isinstance(child, RefusalResource) and child.isLeaf
        answer = json.loads(child.render(request))
        assert request.code == 400 and answer["errcode"] == "M_BAD_JSON"
        assert request.headers[b"Content-Type"] == b"application/json"

    def test_accepted_body_left_at_its_start(self) -> None:
        """An accepted body is read whole and put back where Synapse reads it from."""
        body = json.dumps(_login_body()).encode()
        request = _Request(LOGIN, body)
        child = ClientAddressGate(RequestNotes(), []).getChildWithDefault(b"client", request)
        assert not isinstance(child, RefusalResource)
        assert request.content.tell() == 0 and request.content.read() == body

    def test_screen_failure_refuses(self) -> None:
        """When the screen cannot read the request, it refuses (fail closed)."""
        request = _Request(SEND, b"{}", b"PUT")
        request.content = None  # type: ignore[assignment]
        request.requestHeaders = None  # type: ignore[assignment]
        refusal = screen_request(request)
        assert refusal is not None and refusal.reason == "check_failed"
