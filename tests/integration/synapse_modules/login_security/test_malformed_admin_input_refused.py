"""The login security admin API under malformed user IDs and addresses: 400, never a 500."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.harness.clients import ClientFactory
from tests.harness.logins import ADMIN_API, malformed_inputs, request


@pytest.mark.parametrize("raw_user", [
    pytest.param("@ali\x00ce:localhost", id="nul"),
    pytest.param("@ali\nce:localhost", id="newline"),
    pytest.param("@" + "a" * 300 + ":localhost", id="too-long"),
    pytest.param("@alice\u202e:localhost", id="bidi-override"),
])
@pytest.mark.parametrize("suffix", ["", "/unlock", "/mfa/reset"])
async def test_unusable_user_id_gets_400(clients: ClientFactory, raw_user: str,
                                         suffix: str) -> None:
    """A user ID no account can have: 400 M_INVALID_PARAM on every user endpoint."""
    admin = await clients.user("admuser", admin=True)
    method = "POST" if suffix else "GET"
    body: dict[str, object] | None = {} if suffix else None
    reply = await request(clients.server, method,
                          f"{ADMIN_API}/users/{quote(raw_user, safe='')}{suffix}", body,
                          token=admin.client.api.token)
    assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM"), reply


@pytest.mark.parametrize("address", [
    pytest.param("١٩٢.٠.٢.١", id="arabic-indic-digits"),  # noqa: RUF001 - the point
    pytest.param("192.0.2.1:80", id="with-port"),
    pytest.param("[2001:db8::1]:443", id="bracketed-with-port"),
    pytest.param("2001:db8::/48", id="not-a-64"),
    pytest.param("192.0.2.0/24", id="ipv4-range"),
    pytest.param("2001:db8::1/64", id="64-with-host-bits"),
    pytest.param("9" * 5000, id="huge"),
    pytest.param("\x00", id="nul"),
])
async def test_malformed_address_to_unlock_gets_400(clients: ClientFactory,
                                                    address: str) -> None:
    """Unlocking something that is neither an address nor an IPv6 /64: 400, counted."""
    server = clients.server
    admin = await clients.user("admaddr", admin=True)
    before = await malformed_inputs(server, "api", "address")
    reply = await request(server, "POST",
                          f"{ADMIN_API}/addresses/{quote(address, safe='')}/unlock", {},
                          token=admin.client.api.token)
    assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM"), reply
    assert "IPv6 /64" in reply.body["error"]
    assert await malformed_inputs(server, "api", "address") == before + 1
