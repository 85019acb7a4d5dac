"""The shared value grammars: what each accepts, what it refuses, and what it means."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from hearth.configuration.types import (
    ByteSize,
    ByteSizeText,
    Duration,
    DurationMs,
    IpNetwork,
    Localpart,
    Port,
    RoleName,
    ServerName,
    UserId,
)


def _accepts(kind: Any, value: Any) -> Any:
    return TypeAdapter(kind).validate_python(value)


def _refuses(kind: Any, value: Any, expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(kind).validate_python(value)
    assert expected in caught.value.errors()[0]["msg"]


@pytest.mark.parametrize(("text", "ms"), [
    ("30s", 30_000), ("15m", 900_000), ("11h", 39_600_000), ("7d", 604_800_000),
    ("2w", 1_209_600_000), ("1y", 31_536_000_000), ("0s", 0), ("100y", 3_153_600_000_000),
])
def test_duration_units_in_milliseconds(text: str, ms: int) -> None:
    """Each unit means what Synapse's own parser makes of it; the text form is kept as written."""
    assert _accepts(DurationMs, text) == ms
    assert _accepts(Duration, text) == text


@pytest.mark.parametrize("value", [
    "15", 15, 900.0, True, None, "",       # bare numbers: ms to Synapse, seconds to people
    "500ms", "15M", "15 m", " 15m", "15m\n", "1.5h",  # no ms, no capitals, no spaces, no fractions
    "-5m", "+5m",                          # no signs
    "\uff11\uff15m", "\u0661\u0665m",      # fullwidth and Arabic-Indic digits
    "15x", "m", "15mm",
])
def test_duration_refuses_anything_else(value: Any) -> None:
    """Units, signs, whitespace and non-ASCII digits outside the grammar are refused."""
    _refuses(DurationMs, value, "expected a duration such as 30s, 15m, 11h or 7d")
    _refuses(Duration, value, "expected a duration such as 30s, 15m, 11h or 7d")


def test_duration_overflow_is_refused() -> None:
    """Anything over 100 years is refused rather than overflowing a timestamp later."""
    _refuses(DurationMs, "101y", "at most 100y")
    _refuses(DurationMs, "9" * 30 + "s", "at most 100y")


@pytest.mark.parametrize(("value", "size"), [
    ("1024", 1024), (1024, 1024), (0, 0), ("512K", 512 * 1024), ("50M", 50 * 1024**2),
    ("2G", 2 * 1024**3), ("1T", 1024**4),
])
def test_size_powers_of_1024(value: Any, size: int) -> None:
    """Sizes are bytes, with K/M/G/T as powers of 1024 (as Synapse's max_upload_size)."""
    assert _accepts(ByteSize, value) == size
    assert _accepts(ByteSizeText, value) == str(value)


@pytest.mark.parametrize("value", [
    "1.5G", "50m", "50MB", "50 M", " 50M", "-1", -1, "+5K", True, None, "", "M",
    "\uff15\uff10M",
])
def test_size_refuses_anything_else(value: Any) -> None:
    """Fractions, lowercase or spelled-out units, spaces, signs and non-ASCII digits."""
    _refuses(ByteSize, value, "expected a size such as 512K, 50M or 2G")


def test_size_overflow_is_refused() -> None:
    """Anything over 1024T is refused."""
    _refuses(ByteSize, "1025T", "at most 1024T")


@pytest.mark.parametrize("name", ["admin", "member", "a", "bot-2", "team_lead", "a" * 64])
def test_role_name_accepts_the_policy_keys(name: str) -> None:
    """Lowercase letter first, then up to 63 lowercase letters, digits, '_' or '-'."""
    assert _accepts(RoleName, name) == name


@pytest.mark.parametrize("name", ["Admin", "2fa", "-x", "_x", "a" * 65, "ad min", " admin",
                                  "admin\n", "rôle", "", 5, None])
def test_role_name_refuses_anything_else(name: Any) -> None:
    """Capitals, a leading digit or sign, spaces, non-ASCII and overlong names are refused."""
    _refuses(RoleName, name, "expected a role name such as admin or member")


@pytest.mark.parametrize("user_id", ["@alice:example.org", "@a.b_c=d-e/f+g:hs",
                                     "@ai:localhost:8448", "@x:[::1]:8448", "@bob:127.0.0.1"])
def test_user_id_accepts_modern_ids(user_id: str) -> None:
    """``@localpart:server`` with the spec's modern localpart characters."""
    assert _accepts(UserId, user_id) == user_id


@pytest.mark.parametrize("user_id", ["alice:example.org", "@Alice:example.org", "@:hs", "@alice",
                                     "@alice:", "@al ice:hs", "@alïce:hs", "@alice:exa mple",
                                     "@" + "a" * 252 + ":hs", 5])
def test_user_id_refuses_anything_else(user_id: Any) -> None:
    """No sigil, capitals, spaces, non-ASCII, no server or over 255 characters: refused."""
    _refuses(UserId, user_id, "expected a user ID such as @alice:example.org")


@pytest.mark.parametrize("name", ["example.org", "localhost:8448", "[::1]:8448", "10.0.0.1"])
def test_server_name_accepts_hosts_and_ports(name: str) -> None:
    """A host name, IPv4 or [IPv6] address, optionally with a port."""
    assert _accepts(ServerName, name) == name


@pytest.mark.parametrize("name", ["", "exa mple.org", "hs:port", "::1", "hs:123456", "hs/x"])
def test_server_name_refuses_anything_else(name: str) -> None:
    """Spaces, a bare IPv6 address, a non-numeric or overlong port, a path: refused."""
    _refuses(ServerName, name, "expected a server name")


def test_localpart_is_the_user_id_grammar() -> None:
    """The bot's account name follows the same localpart grammar as user IDs."""
    assert _accepts(Localpart, "ai+bot") == "ai+bot"
    _refuses(Localpart, "AI", "expected a user name")


def test_networks_and_ports() -> None:
    """Ranges allow host bits and single addresses; ports are whole numbers 1-65535."""
    assert _accepts(IpNetwork, "10.0.0.1/8") == ipaddress.ip_network("10.0.0.0/8")
    assert _accepts(IpNetwork, "::1") == ipaddress.ip_network("::1/128")
    _refuses(IpNetwork, "10.0.0.0/33", "expected an IP address or range")
    assert _accepts(Port, 8008) == 8008
    for bad in (0, 65536, True, "8008", 80.0):
        with pytest.raises(ValidationError):
            _accepts(Port, bad)
