"""Per-address counting takes an IPv6 client's whole /64: rotating inside it does not escape.

The test server trusts 127.0.0.1 as its proxy and blocks an address after 6 failures;
each request below comes through that proxy with a different X-Forwarded-For.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from tests.harness.clients import ClientFactory
from tests.harness.logins import ADMIN_API, password_login, request, unique_address

WRONG = "not-the-password-1"


def random_64() -> str:
    """A fresh /64 prefix inside the documentation range 2001:db8::/32."""
    return f"2001:db8:{secrets.randbelow(0xffff):x}:{secrets.randbelow(0xffff):x}"


async def test_rotating_addresses_inside_one_64_gets_it_blocked(clients: ClientFactory) -> None:
    """Six failures from six addresses of one /64 block the /64; another /64 logs in."""
    server = clients.server
    admin = await clients.user("v6admin", admin=True)
    victims = [await clients.user("v6v") for _ in range(3)]
    target = await clients.user("v6ok")
    prefix = random_64()

    host = 1
    for victim in victims:  # 2 failures each: no account reaches 5, the /64 reaches 6
        for _ in range(2):
            failed = await password_login(server, victim.user_id, WRONG,
                                          forwarded_for=f"{prefix}::{host:x}")
            assert failed.errcode == "M_FORBIDDEN", failed
            host += 0x1111

    blocked = await password_login(server, target.user_id, target.password,
                                   forwarded_for=f"{prefix}:dead:beef:cafe:1")
    assert (blocked.status, blocked.errcode) == (429, "M_LIMIT_EXCEEDED"), blocked
    assert f"{prefix}::/64" in blocked.body["error"]
    neighbour = await password_login(server, target.user_id, target.password,
                                     forwarded_for=f"{random_64()}::1")
    assert neighbour.status == 200, neighbour

    unblocked = await request(server, "POST",
                              f"{ADMIN_API}/addresses/{quote(prefix + '::42')}/unlock", {},
                              token=admin.client.api.token)
    assert unblocked.status == 200, unblocked
    assert unblocked.body["address"] == f"{prefix}::/64" and unblocked.body["was_blocked"]
    again = await password_login(server, target.user_id, target.password,
                                 forwarded_for=f"{prefix}::7")
    assert again.status == 200, again


async def test_ipv4_mapped_ipv6_counts_as_the_ipv4_address(clients: ClientFactory) -> None:
    """Failures from ::ffff:a.b.c.d and from a.b.c.d add up: one client, one counter."""
    server = clients.server
    victims = [await clients.user("v4m") for _ in range(3)]
    target = await clients.user("v4mok")
    address = unique_address("198.18.7")

    for victim in victims:
        for written in (address, f"::ffff:{address}"):
            failed = await password_login(server, victim.user_id, WRONG,
                                          forwarded_for=written)
            assert failed.errcode == "M_FORBIDDEN", failed

    blocked = await password_login(server, target.user_id, target.password,
                                   forwarded_for=f"::ffff:{address}")
    assert (blocked.status, blocked.errcode) == (429, "M_LIMIT_EXCEEDED"), blocked
    assert address in blocked.body["error"]
