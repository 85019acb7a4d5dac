"""Every query parameter and body field of the roles admin API, given bad input of every shape,
answers 400 with a Matrix error naming the field, never a 500."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.harness.accounts import Reply
from tests.harness.clients import ClientFactory
from tests.harness.roles import ROLES, effective, metric_value
from tests.harness.server import Homeserver

ERRCODES = {"M_NOT_JSON", "M_BAD_JSON", "M_INVALID_PARAM"}
DEEP = 100_000


async def raw(server: Homeserver, method: str, target: str, body: bytes | None = None
              ) -> Reply:
    """One admin request with the query string and body exactly as given."""
    headers = {"Authorization": f"Bearer {server.admin['access_token']}"}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60.0) as http:
        response = await http.request(method, target, content=body, headers=headers)
    try:
        data = response.json()
    except ValueError:
        data = {}
    return Reply(response.status_code, data if isinstance(data, dict) else {"value": data})


def assert_bad(reply: Reply, field: str) -> None:
    assert reply.status == 400, reply
    assert reply.errcode in ERRCODES, reply
    assert isinstance(reply.body.get("error"), str) and field in reply.body["error"], reply


BAD_LIMITS = ["\u00b2", "\u0663", "\uff15", "\u0661\u0660", "-1", "0", "1001", "9" * 40, "1.5",
              "1e2", "", " 10", "10 ", "+5", "0x10", "%FF", "%00", "10%00"]


@pytest.mark.parametrize("value", BAD_LIMITS)
async def test_limit_bad_values_are_400(clients: ClientFactory, value: str) -> None:
    """limit must be ASCII digits from 1 to 1000: anything else is 400 naming 'limit'."""
    reply = await raw(clients.server, "GET", f"{ROLES}/assignments?limit={value}")
    assert_bad(reply, "'limit'")


@pytest.mark.parametrize("query", [
    "limit=5&limit=6", "role=bot&role=guest", "from=@a:localhost&from=@b:localhost",
])
async def test_repeated_query_parameters_are_400(clients: ClientFactory, query: str) -> None:
    """A parameter given twice is ambiguous: 400 naming it."""
    reply = await raw(clients.server, "GET", f"{ROLES}/assignments?{query}")
    assert_bad(reply, f"'{query.split('=')[0]}'")


@pytest.mark.parametrize("value", ["", "MEMBER", "memb%C3%A9r", "%FF", "%00", "bot%20",
                                   "x" * 2000, "%ED%A0%80"])
async def test_role_filter_bad_values_are_400(clients: ClientFactory, value: str) -> None:
    """The role filter must name a role of the policy."""
    assert_bad(await raw(clients.server, "GET", f"{ROLES}/assignments?role={value}"), "'role'")


@pytest.mark.parametrize("value", ["%FF", "not-a-user", "%ED%A0%80", "@a:localhost%00"])
async def test_from_cursor_bad_values_are_400(clients: ClientFactory, value: str) -> None:
    """The page cursor must be a local user ID."""
    assert_bad(await raw(clients.server, "GET", f"{ROLES}/assignments?from={value}"), "'from'")


BAD_BODIES = [
    pytest.param(b"[" * DEEP + b"]" * DEEP, id="deep-array"),
    pytest.param(b'{"role": ' + b"[" * DEEP + b"]" * DEEP + b"}", id="deep-in-role"),
    pytest.param(b'{"a": ' * DEEP + b"1" + b"}" * DEEP, id="deep-object"),
    pytest.param(b"", id="empty"),
    pytest.param(b"\xff\xfe", id="invalid-utf8"),
    pytest.param(b"\xef\xbb\xbf{\"role\": \"bot\"}", id="bom"),
    pytest.param(b"null", id="null"),
    pytest.param(b"true", id="true"),
    pytest.param(b"1", id="number"),
    pytest.param(b'"bot"', id="string"),
    pytest.param(b'{"role": null}', id="role-null"),
    pytest.param(b'{"role": []}', id="role-list"),
    pytest.param(b'{"role": {}}', id="role-object"),
    pytest.param(b'{"role": true}', id="role-bool"),
    pytest.param(b'{"role": 1.5}', id="role-float"),
    pytest.param(b'{"role": NaN}', id="role-nan"),
    pytest.param(b'{"role": Infinity}', id="role-infinity"),
    pytest.param(b'{"role": ""}', id="role-empty"),
    pytest.param(b'{"role": "BOT"}', id="role-upper"),
    pytest.param(b'{"role": "bot "}', id="role-space"),
    pytest.param(b'{"role": "\\ud800"}', id="role-lone-surrogate"),
    pytest.param(b'{"role": "\\u0000"}', id="role-nul"),
    pytest.param(b'{"role": "' + b"x" * 100_000 + b'"}', id="role-huge"),
    pytest.param(b'{"role": "bot", "role": "admin"}', id="duplicate-key"),
    pytest.param(b'{"role": "bot", "user_id": "@x:localhost"}', id="extra-key"),
    pytest.param(b'{"role": "bot"} trailing', id="trailing-garbage"),
]


@pytest.mark.parametrize("body", BAD_BODIES)
async def test_assignment_body_bad_shapes_are_400(clients: ClientFactory, body: bytes) -> None:
    """PUT …/assignments/<user> with a body of any bad shape is 400; nothing is assigned."""
    user = await clients.user("badbody")
    reply = await raw(clients.server, "PUT",
                      f"{ROLES}/assignments/{quote(user.user_id, safe='')}", body)
    assert reply.status == 400, reply
    assert reply.errcode in ERRCODES, reply
    assert len(reply.body.get("error", "")) < 1000, "the error echoes too much input"
    assert (await effective(clients.server, user.user_id))["role"] == "member"


async def test_bad_input_is_counted_by_reason(clients: ClientFactory) -> None:
    """hearth_policy_invalid_requests_total{reason} grows with each kind of bad input."""
    server = clients.server
    user = await clients.user("counted")
    cases = [("invalid_query", "GET", f"{ROLES}/assignments?limit=%C2%B2", None),
             ("invalid_user_id", "GET", f"{ROLES}/users/%40ANN%3Alocalhost", None),
             ("invalid_body", "PUT", f"{ROLES}/assignments/{quote(user.user_id, safe='')}",
              b"[" * DEEP)]
    for reason, method, target, body in cases:
        before = metric_value(server.metrics_url, "hearth_policy_invalid_requests_total",
                              reason=reason)
        assert (await raw(server, method, target, body)).status == 400
        after = metric_value(server.metrics_url, "hearth_policy_invalid_requests_total",
                             reason=reason)
        assert after == before + 1, reason
