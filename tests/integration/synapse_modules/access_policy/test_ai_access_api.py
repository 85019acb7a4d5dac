"""The AI access API: bot accounts (Synapse user type ``bot``) read a user's AI permissions
from the one policy; nobody else may, and bad input is a Matrix error."""

from __future__ import annotations

import secrets
from urllib.parse import quote

import pytest

from hearth.synapse_admin import register_user
from tests.harness.accounts import call
from tests.harness.clients import ClientFactory
from tests.harness.roles import metric_value, set_role
from tests.harness.server import Homeserver

AI_ACCESS = "/_synapse/client/hearth/v1/ai/access/"


def bot_token(server: Homeserver) -> str:
    account = register_user(server.base_url, server.shared_secret,
                            f"aibot{secrets.token_hex(3)}", user_type="bot")
    return account.access_token


async def test_ai_access_answers_a_bot_with_the_policys_ai_permissions(
    clients: ClientFactory,
) -> None:
    """Role, models, token and dollar budgets and the AI request rate, as the policy says;
    a role change shows at once."""
    server = clients.server
    user = await clients.user("asker")
    token = bot_token(server)
    member = await call(server, "GET", AI_ACCESS + quote(user.user_id, safe=""), token=token)
    assert member.status == 200, member
    assert member.body["user_id"] == user.user_id and member.body["role"] == "member"
    assert member.body["ai"] == {"enabled": True, "models": ["gpt-4o-mini"],
                                 "daily_token_budget": None, "daily_usd_budget": None,
                                 "monthly_usd_budget": None}
    assert member.body["ai_requests"] is None
    await set_role(server, user.user_id, "limited")
    limited = await call(server, "GET", AI_ACCESS + quote(user.user_id, safe=""), token=token)
    assert limited.body["role"] == "limited"
    assert limited.body["ai"]["daily_token_budget"] == 1
    assert limited.body["ai"]["daily_usd_budget"] == pytest.approx(0.000001)
    assert limited.body["ai_requests"] == {"per_second": 1, "burst": 1}


async def test_ai_access_refuses_everyone_but_bot_accounts(clients: ClientFactory) -> None:
    """No token: 401; a member, a moderator, even a server admin: 403, counted."""
    server = clients.server
    target = quote((await clients.user("target")).user_id, safe="")
    anonymous = await call(server, "GET", AI_ACCESS + target)
    assert (anonymous.status, anonymous.errcode) == (401, "M_MISSING_TOKEN")
    moderator = await clients.user("mod")
    await set_role(server, moderator.user_id, "moderator")
    before = metric_value(server.metrics_url, "hearth_ai_access_api_refusals_total",
                          reason="not_a_bot")
    callers = [await clients.user("plain"), moderator, await clients.user("root", admin=True)]
    for caller in callers:
        reply = await call(server, "GET", AI_ACCESS + target, token=str(caller.client.api.token))
        assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN"), (caller.user_id, reply)
        assert "bot accounts" in reply.body["error"]
    assert metric_value(server.metrics_url, "hearth_ai_access_api_refusals_total",
                        reason="not_a_bot") == before + len(callers)


@pytest.mark.parametrize(("path", "status", "errcode"), [
    ("not-a-user-id", 400, "M_INVALID_PARAM"),
    ("%40someone%3Aelsewhere.example", 400, "M_INVALID_PARAM"),
    ("%40nobody-here%3Alocalhost", 404, "M_NOT_FOUND"),
    ("%40a%3Alocalhost/extra", 404, "M_UNRECOGNIZED"),
    ("", 404, "M_UNRECOGNIZED"),
])
async def test_ai_access_bad_user_ids_are_matrix_errors(
    homeserver: Homeserver, path: str, status: int, errcode: str
) -> None:
    """Malformed, remote, unknown or extra path parts: a Matrix error, never a 500."""
    reply = await call(homeserver, "GET", AI_ACCESS + path, token=bot_token(homeserver))
    assert (reply.status, reply.errcode) == (status, errcode), reply


async def test_ai_access_refuses_other_methods(homeserver: Homeserver) -> None:
    """The API only reads."""
    reply = await call(homeserver, "PUT", AI_ACCESS + "%40a%3Alocalhost", {"role": "admin"},
                       token=bot_token(homeserver))
    assert reply.status in (400, 404, 405) and reply.errcode, reply
