"""Client address resolution: X-Forwarded-For only from trusted proxies, right to left."""

from __future__ import annotations

import pytest

from hearth.synapse_modules.login_security.addresses import (
    in_networks,
    parse_address,
    parse_networks,
    resolve_client_address,
)

TRUSTED = parse_networks(["127.0.0.1", "10.0.0.0/8", "2001:db8:ffff::/48"])


@pytest.mark.parametrize(("peer", "headers", "expected"), [
    pytest.param("203.0.113.5", ["198.51.100.1"], "203.0.113.5", id="untrusted-peer-ignored"),
    pytest.param("127.0.0.2", ["10.9.9.9"], "127.0.0.2", id="neighbour-loopback-untrusted"),
    pytest.param("127.0.0.1", [], "127.0.0.1", id="trusted-peer-without-header"),
    pytest.param("127.0.0.1", ["198.51.100.1"], "198.51.100.1", id="one-hop"),
    pytest.param("127.0.0.1", ["203.0.113.9, 198.51.100.1"], "198.51.100.1",
                 id="client-written-first-entry-ignored"),
    pytest.param("127.0.0.1", ["198.51.100.1, 10.1.1.1"], "198.51.100.1",
                 id="skips-trusted-hops"),
    pytest.param("127.0.0.1", ["198.51.100.1", "10.1.1.1"], "198.51.100.1",
                 id="repeated-headers-joined"),
    pytest.param("127.0.0.1", ["10.2.2.2, 10.1.1.1"], "10.2.2.2", id="all-trusted-leftmost"),
    pytest.param("127.0.0.1", ["garbage"], None, id="malformed-unknown"),
    pytest.param("127.0.0.1", ["198.51.100.1, unknown"], None, id="malformed-nearest-hop"),
    pytest.param("127.0.0.1", ["[2001:db8::1]:443"], "2001:db8::1", id="bracketed-v6-port"),
    pytest.param("127.0.0.1", ["198.51.100.1:5555"], "198.51.100.1", id="v4-port"),
    pytest.param("::ffff:127.0.0.1", ["198.51.100.1"], "198.51.100.1", id="mapped-peer"),
    pytest.param(None, ["198.51.100.1"], None, id="no-peer"),
])
def test_resolve_client_address(peer: str | None, headers: list[str], expected: str | None
                                ) -> None:
    """The address believed for each peer and header combination."""
    assert resolve_client_address(peer, headers, TRUSTED) == expected


def test_parse_and_match() -> None:
    """Mapped IPv6 matches IPv4 ranges; families never cross; garbage never matches."""
    assert str(parse_address("::ffff:192.0.2.1")) == "192.0.2.1"
    assert in_networks("::ffff:10.1.2.3", TRUSTED)
    assert in_networks("2001:db8:ffff::7", TRUSTED)
    assert not in_networks("2001:db8::7", TRUSTED)
    assert not in_networks("not-an-ip", TRUSTED)
    assert not in_networks(None, TRUSTED)
    with pytest.raises(ValueError, match=r"10\.0\.0\.0/8"):
        parse_networks(["10.0.0.0/33"])
