"""A user ID written differently (case, spaces, missing or other server) is refused with 400
naming the field, at every entry point of the roles API; nothing is stored that is not enforced.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.harness.accounts import Reply, call
from tests.harness.clients import ClientFactory, User
from tests.harness.roles import ROLES, effective

# How the variant is built from the real user's ID (@<localpart>:localhost).
VARIANTS = [
    pytest.param(lambda u: u.upper().replace(":LOCALHOST", ":localhost"), id="upper-localpart"),
    pytest.param(lambda u: u[:2].upper() + u[2:], id="one-upper-letter"),
    pytest.param(lambda u: u.replace(":localhost", ":LOCALHOST"), id="upper-server"),
    pytest.param(lambda u: " " + u, id="leading-space"),
    pytest.param(lambda u: u + " ", id="trailing-space"),
    pytest.param(lambda u: u + "\n", id="trailing-newline"),
    pytest.param(lambda u: u + "\t", id="trailing-tab"),
    pytest.param(lambda u: u.split(":")[0], id="missing-server"),
    pytest.param(lambda u: u[1:], id="missing-sigil"),
    pytest.param(lambda u: u.split(":")[0][1:], id="bare-localpart"),
    pytest.param(lambda u: u.replace(":localhost", ":elsewhere.example"), id="other-server"),
    pytest.param(lambda u: u + ":8448", id="server-with-port"),
    pytest.param(lambda u: "\uff20" + u[1:], id="fullwidth-sigil"),
    pytest.param(lambda u: u.replace("@", "@\u200b"), id="zero-width-space"),
    pytest.param(lambda u: u + "\x00", id="nul"),
    pytest.param(lambda u: "@" + "a" * 300 + ":localhost", id="too-long"),
]


async def admin_call(clients: ClientFactory, method: str, path: str,
                     body: dict[str, str] | None = None, query: dict[str, str] | None = None
                     ) -> Reply:
    return await call(clients.server, method, path, body,
                      token=clients.server.admin["access_token"], query=query)


def assert_invalid(reply: Reply, field: str) -> None:
    assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM"), reply
    assert field in reply.body["error"], reply


def path_of(kind: str, user_id: str) -> str:
    return f"{ROLES}/{kind}/{quote(user_id, safe='')}"


@pytest.mark.parametrize("variant", VARIANTS)
async def test_assign_to_a_variant_user_id_is_refused_and_not_stored(
    clients: ClientFactory, variant: object,
) -> None:
    """PUT …/assignments/<variant> is 400 naming user_id; the real user keeps the default."""
    user: User = await clients.user("variant")
    written = variant(user.user_id)  # type: ignore[operator]
    reply = await admin_call(clients, "PUT", path_of("assignments", written), {"role": "guest"})
    assert_invalid(reply, "user_id")
    assert (await effective(clients.server, user.user_id))["role"] == "member"
    listed = await admin_call(clients, "GET", f"{ROLES}/assignments",
                              query={"role": "guest", "limit": "1000"})
    assert written not in [a["user_id"] for a in listed.body["assignments"]]


@pytest.mark.parametrize("kind_method", [("assignments", "GET"), ("assignments", "DELETE"),
                                         ("users", "GET")])
@pytest.mark.parametrize("variant", VARIANTS)
async def test_every_user_id_path_refuses_a_variant(
    clients: ClientFactory, variant: object, kind_method: tuple[str, str],
) -> None:
    """Reading, revoking and the effective view refuse a variant the same way."""
    user: User = await clients.user("variant")
    kind, method = kind_method
    written = variant(user.user_id)  # type: ignore[operator]
    assert_invalid(await admin_call(clients, method, path_of(kind, written)), "user_id")


@pytest.mark.parametrize("variant", VARIANTS)
async def test_list_cursor_refuses_a_variant(clients: ClientFactory, variant: object) -> None:
    """The list's ``from`` cursor is a user ID too: a variant is 400 naming 'from'."""
    written = variant("@cursor:localhost")  # type: ignore[operator]
    reply = await admin_call(clients, "GET", f"{ROLES}/assignments", query={"from": written})
    assert_invalid(reply, "'from'")


async def test_canonical_user_id_still_assigns_and_is_enforced(clients: ClientFactory) -> None:
    """The ID as Synapse writes it is accepted and enforced, percent-encoded or not."""
    user = await clients.user("canonical")
    reply = await admin_call(clients, "PUT", f"{ROLES}/assignments/{user.user_id}",
                             {"role": "guest"})
    assert reply.status == 200, reply
    assert (await effective(clients.server, user.user_id))["role"] == "guest"
