"""The roles admin API's input readers: every bad shape is an InputError naming the field."""

from __future__ import annotations

import pytest

from hearth.synapse_modules.access_policy import admin_input
from hearth.synapse_modules.access_policy.admin_input import InputError

SERVER = "localhost"
ROLES = ("bot", "guest", "member")


@pytest.mark.parametrize("raw", [
    "@ANN:localhost", "@Ann:localhost", " @ann:localhost", "@ann:localhost ", "@ann:localhost\n",
    "@ann", "ann:localhost", "ann", "\uff20ann:localhost", "@\u200bann:localhost",
    "@ann:localhost\x00", "@" + "a" * 300 + ":localhost", "", "@:localhost",
])
def test_user_id_not_canonical_is_refused(raw: str) -> None:
    """Only the canonical spelling passes; the error names the field and the grammar."""
    with pytest.raises(InputError) as refused:
        admin_input.local_user_id(raw, "user_id", SERVER)
    assert refused.value.reason == "invalid_user_id"
    assert "Invalid user ID in 'user_id'" in refused.value.message


def test_user_id_of_another_server_is_refused_and_upper_case_gets_a_hint() -> None:
    """Other servers (or another spelling of ours) are not local; upper case shows the fix."""
    for raw in ("@ann:elsewhere.example", "@ann:LOCALHOST", "@ann:localhost:8448"):
        with pytest.raises(InputError, match="not a user of this server"):
            admin_input.local_user_id(raw, "from", SERVER)
    with pytest.raises(InputError, match="'@ann:localhost'\\?"):
        admin_input.local_user_id("@ANN:localhost", "user_id", SERVER)
    assert admin_input.local_user_id("@ann.b_c=d-e/f+g:localhost", "user_id", SERVER)


@pytest.mark.parametrize("raw", ["\u00b2", "\u0663", "\uff15", "-1", "0", "1001", "9" * 40,
                                 "1.5", "1e2", "", " 10", "10 ", "+5", "0x10", "\x00"])
def test_limit_only_ascii_digits_in_range(raw: str) -> None:
    """Non-ASCII digits, signs, spaces, floats and out-of-range values are refused."""
    with pytest.raises(InputError, match="Invalid 'limit'"):
        admin_input.page_limit(raw, 100, 1000)


def test_limit_default_and_bounds() -> None:
    assert admin_input.page_limit(None, 100, 1000) == 100
    assert admin_input.page_limit("1", 100, 1000) == 1
    assert admin_input.page_limit("1000", 100, 1000) == 1000


def test_query_parameter_repeated_or_not_utf8_is_refused() -> None:
    """A parameter twice is ambiguous; bytes that are not UTF-8 are not text."""
    assert admin_input.single_query({}, "role") is None
    assert admin_input.single_query({b"role": [b"bot"]}, "role") == "bot"
    with pytest.raises(InputError, match="'role' is given 2 times"):
        admin_input.single_query({b"role": [b"bot", b"guest"]}, "role")
    with pytest.raises(InputError, match="Invalid 'from': not UTF-8"):
        admin_input.single_query({b"from": [b"\xed\xa0\x80"]}, "from")


@pytest.mark.parametrize(("raw", "errcode"), [
    (b"[" * 100_000 + b"]" * 100_000, "M_NOT_JSON"),
    (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "M_NOT_JSON"),
    (b"", "M_NOT_JSON"),
    (b"\xff", "M_NOT_JSON"),
    (b'{"role": NaN}', "M_NOT_JSON"),
    (b'{"role": -Infinity}', "M_NOT_JSON"),
    (b'{"role": "a"} x', "M_NOT_JSON"),
    (b"null", "M_BAD_JSON"),
    (b"[]", "M_BAD_JSON"),
    (b'{"role": "a", "role": "b"}', "M_BAD_JSON"),
])
def test_body_must_be_one_strict_json_object(raw: bytes, errcode: str) -> None:
    """Deep nesting, NaN, duplicates and non-objects are refused, never a crash."""
    with pytest.raises(InputError) as refused:
        admin_input.json_object(raw, '{"role": "bot"}')
    assert refused.value.errcode == errcode and refused.value.reason == "invalid_body"


@pytest.mark.parametrize("raw", [None, 7, [], {}, True, "", "BOT", "bot ", "\ud800", "x" * 10**5])
def test_role_name_must_be_a_defined_role(raw: object) -> None:
    """Anything but the name of a role the policy defines; the echo stays short."""
    with pytest.raises(InputError) as refused:
        admin_input.role_name(raw, "role", ROLES, "invalid_body")
    assert "'role'" in refused.value.message and len(refused.value.message) < 300
    assert admin_input.role_name("bot", "role", ROLES, "invalid_body") == "bot"
