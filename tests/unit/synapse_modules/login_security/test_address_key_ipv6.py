"""Failures are counted per IPv4 address and per IPv6 /64 (what one subscriber gets)."""
# ruff: noqa: RUF001 - look-alike digits and letters are what these tests try

from __future__ import annotations

import pytest

from hearth.synapse_modules.login_security.addresses import address_key, unlock_key


@pytest.mark.parametrize(("address", "key"), [
    pytest.param("203.0.113.7", "203.0.113.7", id="ipv4-itself"),
    pytest.param("2001:db8:1:2::1", "2001:db8:1:2::/64", id="ipv6-its-64"),
    pytest.param("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64", id="ipv6-top-of-64"),
    pytest.param("2001:DB8:1:2:0:0:0:abcd", "2001:db8:1:2::/64", id="ipv6-spelling"),
    pytest.param("::ffff:203.0.113.7", "203.0.113.7", id="ipv4-mapped-as-ipv4"),
    pytest.param("::1", "::/64", id="loopback"),
    pytest.param("fe80::1%eth0", "fe80::/64", id="scoped"),
])
def test_address_key(address: str, key: str) -> None:
    """The counting key of each kind of address."""
    assert address_key(address) == key


def test_addresses_in_one_64_share_a_key_and_another_64_does_not() -> None:
    """Rotating inside a /64 keeps the key; the next /64 is another subscriber."""
    keys = {address_key(f"2001:db8:5:6::{i:x}") for i in range(1, 200)}
    assert keys == {"2001:db8:5:6::/64"}
    assert address_key("2001:db8:5:7::1") != address_key("2001:db8:5:6::1")


@pytest.mark.parametrize(("text", "key"), [
    pytest.param("203.0.113.7", "203.0.113.7", id="ipv4"),
    pytest.param("2001:db8:1:2::99", "2001:db8:1:2::/64", id="ipv6-address"),
    pytest.param("2001:db8:1:2::/64", "2001:db8:1:2::/64", id="ipv6-64"),
    pytest.param("::ffff:203.0.113.7", "203.0.113.7", id="mapped"),
    pytest.param("999.1.2.3", None, id="bad-ipv4"),
    pytest.param("2001:db8::/48", None, id="not-a-64"),
    pytest.param("203.0.113.0/24", None, id="ipv4-range"),
    pytest.param("203.0.113.7:80", None, id="with-port"),
    pytest.param("١٩٢.٠.٢.١", None, id="arabic-indic"),
    pytest.param("", None, id="empty"),
])
def test_unlock_key(text: str, key: str | None) -> None:
    """What an admin may name to unlock: an address or an IPv6 /64; anything else is None."""
    assert unlock_key(text) == key
