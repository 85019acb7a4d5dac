"""Client addresses: which one to believe, and whether it is in a set of ranges (pure).

Synapse's own ``x_forwarded`` listener option takes the first ``X-Forwarded-For`` entry from
any peer, so a client that reaches the listener directly can claim any address. For the
decisions this module makes (lockout per address, address rules per role) the address is
resolved here instead: ``X-Forwarded-For`` is read only when the TCP peer is a configured
trusted proxy, and then walked from the right, skipping further trusted proxies, to the
first address that is not one — the nearest hop nobody we trust vouches for.

Failures are counted and blocked per *subscriber*, not per address (``address_key``): an
IPv4 address as it is, an IPv6 address by its /64 — the smallest block a provider hands a
customer, inside which the customer picks any of 2^64 addresses at will (privacy
extensions rotate them on their own) — and an IPv4-mapped IPv6 address as the IPv4 one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPV6_SUBSCRIBER_PREFIX = 64


def parse_address(text: str) -> IPAddress | None:
    """An IP address from ``text`` (``[v6]:port`` and ``v4:port`` allowed), else None.

    IPv4-mapped IPv6 addresses (``::ffff:192.0.2.1``, what a dual-stack listener reports)
    are returned as the IPv4 address so that IPv4 ranges match them.
    """
    value = text.strip()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        value = value[1:end]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_network(text: str) -> IPNetwork:
    """A range such as ``10.0.0.0/8``, ``2001:db8::/32`` or a single address; ValueError else."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"got {text!r}, expected an IP address or range such as 10.0.0.0/8")
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"got {text!r}, expected an IP address or range such as 10.0.0.0/8"
        ) from None


def parse_networks(texts: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Several ranges; the first bad one raises ValueError naming it."""
    return tuple(parse_network(t) for t in texts)


def in_networks(address: str | IPAddress | None, networks: Sequence[IPNetwork]) -> bool:
    """Whether ``address`` lies in any of ``networks`` (False for None or garbage)."""
    parsed = parse_address(address) if isinstance(address, str) else address
    if parsed is None:
        return False
    return any(parsed.version == net.version and parsed in net for net in networks)


def address_key(address: str | IPAddress) -> str:
    """What failures from ``address`` are counted under: IPv4 itself, IPv6 its /64.

    Text that is not an address is returned as it is (it then counts on its own).
    """
    parsed = parse_address(address) if isinstance(address, str) else address
    if parsed is None:
        return str(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        host_bits = 128 - IPV6_SUBSCRIBER_PREFIX
        network = ipaddress.IPv6Network((int(parsed) >> host_bits << host_bits,
                                         IPV6_SUBSCRIBER_PREFIX))
        return str(network)
    return str(parsed)


def unlock_key(text: str) -> str | None:
    """The counting key an administrator names: an address, or an IPv6 /64; else None."""
    value = text.strip()
    if "/" in value:
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError:
            return None
        if network.version == 6 and network.prefixlen == IPV6_SUBSCRIBER_PREFIX:
            return str(network)
        return None
    if value.count(":") == 1 or value.startswith("["):
        return None  # address:port or [v6]:port — an address was asked for
    parsed = parse_address(value)
    return address_key(parsed) if parsed is not None else None


def forwarded_chain(header_values: Sequence[str]) -> list[str]:
    """The ``X-Forwarded-For`` entries in order, over repeated headers (RFC 7230 joins them)."""
    chain: list[str] = []
    for value in header_values:
        chain.extend(part.strip() for part in value.split(",") if part.strip())
    return chain


def resolve_client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted_proxies: Sequence[IPNetwork]
) -> str | None:
    """The address to attribute a request to, or None when it cannot be told.

    ``peer`` is the TCP peer, ``forwarded_for`` the raw ``X-Forwarded-For`` header values.
    A peer that is not a trusted proxy is the client, whatever headers it sends. From a
    trusted proxy the chain is walked right to left: trusted hops are skipped and the first
    untrusted one is the client; a malformed entry stops the walk with None (the request
    is then treated as coming from an unknown address, which address rules refuse).
    When every hop is trusted, the leftmost one is the client.
    """
    peer_address = parse_address(peer) if peer else None
    if peer_address is None:
        return None
    if not in_networks(peer_address, trusted_proxies):
        return str(peer_address)
    chain = forwarded_chain(forwarded_for)
    current = peer_address
    for entry in reversed(chain):
        hop = parse_address(entry)
        if hop is None:
            return None
        current = hop
        if not in_networks(hop, trusted_proxies):
            return str(hop)
    return str(current)
