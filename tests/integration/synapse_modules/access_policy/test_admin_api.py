"""The roles admin API: admins only, assign/show/list/revoke, clear 400s, registration rules."""

from __future__ import annotations

import secrets
from urllib.parse import quote

import httpx
import pytest

from tests.harness.accounts import Reply, call
from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory
from tests.harness.roles import ROLES, effective, metric_value, set_role
from tests.harness.server import Homeserver


def admin_token(server: Homeserver) -> str:
    return server.admin["access_token"]


def user_path(user_id: str, kind: str = "assignments") -> str:
    return f"{ROLES}/{kind}/{quote(user_id, safe='')}"


async def test_roles_api_refuses_anonymous_and_non_admins(clients: ClientFactory) -> None:
    """No token is 401; a plain user's token is 403 M_FORBIDDEN on every method."""
    server = clients.server
    user = await clients.user("plain")
    anonymous = await call(server, "GET", ROLES)
    assert (anonymous.status, anonymous.errcode) == (401, "M_MISSING_TOKEN")
    token = str(user.client.api.token)
    for method, path, body in [
        ("GET", ROLES, None),
        ("GET", f"{ROLES}/assignments", None),
        ("GET", user_path(user.user_id, "users"), None),
        ("PUT", user_path(user.user_id), {"role": "admin"}),
        ("DELETE", user_path(user.user_id), None),
    ]:
        reply = await call(server, method, path, body, token=token)
        assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN"), (method, path, reply)
        assert "server admins" in reply.body["error"]


async def test_roles_api_assign_show_list_and_revoke(clients: ClientFactory) -> None:
    """An assignment shows in the effective permissions and the list; revoking restores member."""
    server = clients.server
    user = await clients.user("staff")
    start = await effective(server, user.user_id)
    assert (start["role"], start["source"], start["assignment"]) == ("member", "default", None)

    assigned = await set_role(server, user.user_id, "moderator")
    assert assigned.body["role"] == "moderator" and assigned.body["source"] == "admin"
    shown = await effective(server, user.user_id)
    assert (shown["role"], shown["source"]) == ("moderator", "assignment")
    assert shown["permissions"]["publish_to_directory"] is True
    assert shown["permissions"]["ai"]["models"] == ["gpt-4o*"]
    assert shown["rate_limits"]["messages"] is None

    listed = await call(server, "GET", f"{ROLES}/assignments", token=admin_token(server),
                        query={"role": "moderator", "limit": "1000"})
    assert user.user_id in [a["user_id"] for a in listed.body["assignments"]]
    one = await call(server, "GET", user_path(user.user_id), token=admin_token(server))
    assert one.body["role"] == "moderator"

    revoked = await call(server, "DELETE", user_path(user.user_id), token=admin_token(server))
    assert (revoked.status, revoked.body["revoked_role"], revoked.body["role"]) == (
        200, "moderator", "member")
    assert (await effective(server, user.user_id))["role"] == "member"
    again = await call(server, "DELETE", user_path(user.user_id), token=admin_token(server))
    assert (again.status, again.errcode) == (404, "M_NOT_FOUND")


async def test_roles_api_lists_roles_and_pages_assignments(clients: ClientFactory) -> None:
    """GET roles shows the policy; the assignment list pages with next_from."""
    server = clients.server
    roles = await call(server, "GET", ROLES, token=admin_token(server))
    assert roles.body["default_role"] == "member"
    assert {"admin", "moderator", "member", "guest", "bot"} <= set(roles.body["roles"])
    for _ in range(3):
        await set_role(server, (await clients.user("pager")).user_id, "bot")
    first = await call(server, "GET", f"{ROLES}/assignments", token=admin_token(server),
                       query={"role": "bot", "limit": "2"})
    assert len(first.body["assignments"]) == 2 and first.body["next_from"]
    second = await call(server, "GET", f"{ROLES}/assignments", token=admin_token(server),
                        query={"role": "bot", "limit": "2", "from": first.body["next_from"]})
    assert first.body["assignments"][-1]["user_id"] < second.body["assignments"][0]["user_id"]


@pytest.mark.parametrize(("method", "target", "body", "query", "status", "errcode", "says"), [
    ("PUT", "user", b"{not json", None, 400, "M_NOT_JSON", "not JSON"),
    ("PUT", "user", ["moderator"], None, 400, "M_BAD_JSON", "JSON object"),
    ("PUT", "user", {}, None, 400, "M_BAD_JSON", "Missing 'role'"),
    ("PUT", "user", {"role": "bot", "until": 5}, None, 400, "M_BAD_JSON", "Unknown key 'until'"),
    ("PUT", "user", {"role": 7}, None, 400, "M_BAD_JSON", "got 7, expected a role name"),
    ("PUT", "user", {"role": "overlord"}, None, 400, "M_INVALID_PARAM",
     "Unknown role 'overlord': expected one of"),
    ("PUT", "not-a-user-id", {"role": "bot"}, None, 400, "M_INVALID_PARAM", "Invalid user ID"),
    ("PUT", "@someone:elsewhere.example", {"role": "bot"}, None, 400, "M_INVALID_PARAM",
     "not a user of this server"),
    ("PUT", "@nobody-here:localhost", {"role": "bot"}, None, 404, "M_NOT_FOUND", "No such user"),
    ("GET", "list", None, {"limit": "0"}, 400, "M_INVALID_PARAM", "Invalid 'limit': got '0'"),
    ("GET", "list", None, {"role": "overlord"}, 400, "M_INVALID_PARAM", "Unknown role"),
])
async def test_roles_api_malformed_input_is_400_with_a_clear_message(
    clients: ClientFactory, method: str, target: str, body: object, query: dict[str, str] | None,
    status: int, errcode: str, says: str,
) -> None:
    """Each malformed request gets the right status, Matrix errcode and a message saying why."""
    server = clients.server
    if target == "user":
        path = user_path((await clients.user("target")).user_id)
    elif target == "list":
        path = f"{ROLES}/assignments"
    else:
        path = user_path(target)
    if isinstance(body, bytes):
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            response = await http.request(method, path, content=body,
                                          headers={"Authorization":
                                                   f"Bearer {admin_token(server)}"})
        reply = Reply(response.status_code, response.json())
    else:
        reply = await call(server, method, path, body,  # type: ignore[arg-type]
                           token=admin_token(server), query=query)
    assert (reply.status, reply.errcode) == (status, errcode), reply
    assert says in reply.body["error"], reply


async def test_registration_rule_gives_role_by_email_domain(clients: ClientFactory) -> None:
    """An account created with a staff.test address is a moderator; another stays a member."""
    server = clients.server
    results = {}
    for domain in ("staff.test", "example.test"):
        user_id = f"@reg{secrets.token_hex(3)}:localhost"
        created = await call(server, "PUT", f"/_synapse/admin/v2/users/{quote(user_id)}",
                             {"password": "a-long-password-1",
                              "threepids": [{"medium": "email", "address": f"x@{domain}"}]},
                             token=admin_token(server))
        assert created.status == 201, created
        results[domain] = await effective(server, user_id)
    staff = results["staff.test"]
    assert staff["role"] == "moderator"
    assert staff["assignment"]["source"] == "registration_rule"
    assert results["example.test"]["role"] == "member"


async def test_users_per_role_metric_follows_assignments(clients: ClientFactory) -> None:
    """hearth_policy_users{role} counts active accounts by effective role."""
    server = clients.server
    before = metric_value(server.metrics_url, "hearth_policy_users", role="bot")
    await set_role(server, (await clients.user("counted")).user_id, "bot")

    async def bots() -> float:
        return metric_value(server.metrics_url, "hearth_policy_users", role="bot")

    await eventually(bots, lambda count: count == before + 1, timeout=10, what="bot count")
    assert metric_value(server.metrics_url, "hearth_policy_users", role="member") >= 1
