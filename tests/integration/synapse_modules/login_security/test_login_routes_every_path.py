"""Every path Synapse routes to /login is guarded: failures counted, locks checked first."""

from __future__ import annotations

from typing import Any

from tests.harness.clients import ClientFactory
from tests.harness.logins import identifier, request, unique_address

# What Synapse 1.163 routes to its login servlet (client_patterns("/login$", v1=True)).
LOGIN_PATHS = [f"/_matrix/client/{version}/login"
               for version in ("api/v1", "r0", "v3", "unstable")]
WRONG = "not-the-password-1"


def login_body(user: str, password: str) -> dict[str, Any]:
    return {"type": "m.login.password", "identifier": identifier(user), "password": password}


async def test_every_login_path_locks_before_checking_the_password(
        clients: ClientFactory) -> None:
    """On each path, 5 failures lock; then right and wrong passwords get the same answer."""
    server = clients.server
    for path in LOGIN_PATHS:
        user = await clients.user("route")
        address = unique_address()
        for _ in range(5):
            failed = await request(server, "POST", path, login_body(user.user_id, WRONG),
                                   forwarded_for=address)
            assert (failed.status, failed.errcode) == (403, "M_FORBIDDEN"), (path, failed)
        right = await request(server, "POST", path, login_body(user.user_id, user.password),
                              forwarded_for=address)
        wrong = await request(server, "POST", path, login_body(user.user_id, WRONG),
                              forwarded_for=address)
        assert (right.status, right.errcode) == (403, "M_USER_LOCKED"), (path, right)
        assert (wrong.status, wrong.errcode) == (403, "M_USER_LOCKED"), (path, wrong)
        assert set(right.body) == set(wrong.body) and "access_token" not in right.body


async def test_every_login_path_counts_failures_against_the_address(
        clients: ClientFactory) -> None:
    """On each path, the address limit's failures (6 in the tests) block the address there."""
    server = clients.server
    for path in LOGIN_PATHS:
        first, second, bystander = [await clients.user("routeip") for _ in range(3)]
        address = unique_address("203.0.113")
        for victim in (first, second):
            for _ in range(3):
                failed = await request(server, "POST", path, login_body(victim.user_id, WRONG),
                                       forwarded_for=address)
                assert failed.errcode == "M_FORBIDDEN", (path, failed)
        blocked = await request(server, "POST", path,
                                login_body(bystander.user_id, bystander.password),
                                forwarded_for=address)
        assert (blocked.status, blocked.errcode) == (429, "M_LIMIT_EXCEEDED"), (path, blocked)
        elsewhere = await request(server, "POST", path,
                                  login_body(bystander.user_id, bystander.password),
                                  forwarded_for=unique_address("198.18.0"))
        assert elsewhere.status == 200 and elsewhere.body.get("access_token"), (path, elsewhere)


async def test_login_paths_with_a_trailing_slash_are_not_served(clients: ClientFactory) -> None:
    """Synapse does not route /login/ (so the guarded set above is all there is)."""
    server = clients.server
    user = await clients.user("slash")
    for path in LOGIN_PATHS:
        reply = await request(server, "POST", path + "/",
                              login_body(user.user_id, user.password))
        assert reply.status == 404 and "access_token" not in reply.body, (path, reply)
