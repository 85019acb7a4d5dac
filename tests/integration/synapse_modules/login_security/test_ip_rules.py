"""Address rules per role: X-Forwarded-For counts only from a trusted proxy, no spoofing.

The test server trusts 127.0.0.1 as its proxy; admins may log in from 127.0.0.1, ::1 and
10.0.0.0/8 but not 10.66.0.0/16; members may not log in from 192.0.2.0/24. Requests from
127.0.0.2 play a client that reaches Synapse directly, bypassing the proxy.
"""

from __future__ import annotations

from tests.harness.clients import ClientFactory
from tests.harness.logins import password_login

UNTRUSTED = "127.0.0.2"


async def test_forwarded_address_from_the_trusted_proxy_decides(clients: ClientFactory) -> None:
    """Through the proxy, the client address in X-Forwarded-For is allowed or refused."""
    server = clients.server
    admin = await clients.user("ipadm", admin=True)

    allowed = await password_login(server, admin.user_id, admin.password,
                                   forwarded_for="10.9.8.7")
    assert allowed.status == 200, allowed
    outside = await password_login(server, admin.user_id, admin.password,
                                   forwarded_for="203.0.113.9")
    assert (outside.status, outside.errcode) == (403, "M_FORBIDDEN"), outside
    assert "'admin'" in outside.body["error"] and "203.0.113.9" in outside.body["error"]
    denied = await password_login(server, admin.user_id, admin.password,
                                  forwarded_for="10.66.1.2")
    assert (denied.status, denied.errcode) == (403, "M_FORBIDDEN"), denied
    # The client wrote the first entry itself; the proxy appended what it saw. The
    # rightmost untrusted hop counts (Synapse's own x_forwarded would take the first).
    chain = await password_login(server, admin.user_id, admin.password,
                                 forwarded_for="10.9.8.7, 203.0.113.9")
    assert (chain.status, chain.errcode) == (403, "M_FORBIDDEN"), chain
    assert "203.0.113.9" in chain.body["error"]
    garbage = await password_login(server, admin.user_id, admin.password,
                                   forwarded_for="not-an-address")
    assert garbage.status == 403 and "could not be determined" in garbage.body["error"]


async def test_untrusted_peer_cannot_spoof_forwarded_for(clients: ClientFactory) -> None:
    """A direct client's X-Forwarded-For is ignored: its own address is what counts."""
    server = clients.server
    admin = await clients.user("ipspoof", admin=True)
    member = await clients.user("ipmember")

    spoofed = await password_login(server, admin.user_id, admin.password, source=UNTRUSTED,
                                   forwarded_for="10.9.8.7")
    assert (spoofed.status, spoofed.errcode) == (403, "M_FORBIDDEN"), spoofed
    assert UNTRUSTED in spoofed.body["error"]
    # A member is refused from 192.0.2.0/24 through the proxy, but a direct client cannot
    # get itself refused (or allowed) by claiming such an address either.
    via_proxy = await password_login(server, member.user_id, member.password,
                                     forwarded_for="192.0.2.5")
    assert (via_proxy.status, via_proxy.errcode) == (403, "M_FORBIDDEN"), via_proxy
    direct = await password_login(server, member.user_id, member.password, source=UNTRUSTED,
                                  forwarded_for="192.0.2.5")
    assert direct.status == 200, direct
