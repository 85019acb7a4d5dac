"""The bot learns a user's AI permissions from the access policy's API, with its own token,
and refuses (never a permissive default) whenever that answer cannot be had."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from hearth.ai_bot.permissions import (
    AI_ACCESS_PATH,
    AccessPolicy,
    AiAccess,
    RoleUnknown,
    access_from_answer,
    policy_api_lookup,
)

MEMBER = {
    "user_id": "@alice:hs", "role": "member", "policy_version": 3,
    "ai": {"enabled": True, "models": ["gpt-4o-mini"], "daily_token_budget": 1000,
           "daily_usd_budget": 0.5, "monthly_usd_budget": 10},
    "ai_requests": {"per_second": 0.2, "burst": 10},
}


class Tokens:
    """The bot's session: a token, and a renewal that hands out the next one."""

    def __init__(self) -> None:
        self.token = "t1"
        self.renewed: list[str] = []

    async def renew(self, failed: str) -> None:
        self.renewed.append(failed)
        self.token = f"t{len(self.renewed) + 1}"


def policy_answering(handler: Any, tokens: Tokens | None = None) -> AccessPolicy:
    transport = httpx.MockTransport(handler)
    return AccessPolicy(policy_api_lookup("http://hs", tokens or Tokens(), transport=transport))


def failures(kind: str) -> float:
    return REGISTRY.get_sample_value("hearth_ai_role_lookup_failures_total", {"kind": kind}) or 0.0


def test_answer_carries_role_models_budgets_and_rate() -> None:
    """Every AI field of the policy comes through: models, token and dollar budgets, rate."""
    access = access_from_answer(MEMBER)
    assert access == AiAccess(role="member", use_ai=True, models=("gpt-4o-mini",),
                              daily_usd=0.5, monthly_usd=10.0, daily_token_budget=1000,
                              rate=(0.2, 10))
    assert access.may_use_model("gpt-4o-mini") and not access.may_use_model("gpt-4o")
    unlimited = access_from_answer({**MEMBER, "ai": {"enabled": True, "models": ["*"]},
                                    "ai_requests": None})
    assert (unlimited.daily_usd, unlimited.monthly_usd, unlimited.rate) == (None, None, None)


@pytest.mark.parametrize("answer", [
    [], "member", {}, {"role": "member"}, {**MEMBER, "ai": []},
    {**MEMBER, "ai": {**MEMBER["ai"], "enabled": "yes"}},  # type: ignore[dict-item]
    {**MEMBER, "ai": {**MEMBER["ai"], "models": "gpt-4o"}},  # type: ignore[dict-item]
    {**MEMBER, "ai": {**MEMBER["ai"], "daily_usd_budget": "lots"}},  # type: ignore[dict-item]
    {**MEMBER, "ai": {**MEMBER["ai"], "daily_token_budget": -1}},  # type: ignore[dict-item]
    {**MEMBER, "ai_requests": {"per_second": 1}},
])
def test_malformed_answer_is_unknown_not_permissive(answer: Any) -> None:
    """An answer of the wrong shape is no answer: RoleUnknown, never a guessed permission."""
    with pytest.raises(RoleUnknown) as raised:
        access_from_answer(answer)
    assert raised.value.kind == "malformed"


async def test_lookup_asks_the_ai_access_endpoint_with_the_bots_token() -> None:
    """GET <AI_ACCESS_PATH><user>, bearer the bot's own token, fresh on every call."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=MEMBER)

    policy = policy_answering(handler)
    assert (await policy.access("@alice:hs")).role == "member"
    assert (await policy.access("@alice:hs")).role == "member"
    assert [r.url.raw_path.decode() for r in seen] == [AI_ACCESS_PATH + "%40alice%3Ahs"] * 2
    assert seen[0].headers["Authorization"] == "Bearer t1"


async def test_expired_token_is_renewed_once_then_refused() -> None:
    """A 401 renews the bot's token and asks again; a second 401 is a refusal."""
    tokens = Tokens()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer t2":
            return httpx.Response(200, json=MEMBER)
        return httpx.Response(401, json={"errcode": "M_UNKNOWN_TOKEN", "error": "expired"})

    assert (await policy_answering(handler, tokens).access("@alice:hs")).use_ai
    assert tokens.renewed == ["t1"]

    def always_401(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"errcode": "M_UNKNOWN_TOKEN", "error": "expired"})

    before = failures("unauthorized")
    with pytest.raises(RoleUnknown):
        await policy_answering(always_401).access("@alice:hs")
    assert failures("unauthorized") == before + 1


def _fail(status: int, body: Any) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)
    return handler


def _raise(exc: Exception) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc
    return handler


@pytest.mark.parametrize(("handler", "kind"), [
    (_fail(500, {"errcode": "M_UNKNOWN", "error": "boom"}), "server_error"),
    (_fail(503, "<html>down</html>"), "server_error"),
    (_fail(403, {"errcode": "M_FORBIDDEN", "error": "not a bot"}), "forbidden"),
    (_fail(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"}),
     "not_installed"),
    (_fail(429, {"errcode": "M_LIMIT_EXCEEDED", "error": "slow"}), "server_error"),
    (_fail(200, "<html>captive</html>"), "malformed"),
    (_fail(200, json.dumps({"role": "member"})), "malformed"),
    (_raise(httpx.ConnectError("refused")), "unreachable"),
    (_raise(httpx.ReadTimeout("slow")), "timeout"),
])
async def test_every_failed_lookup_is_a_counted_refusal(handler: Any, kind: str) -> None:
    """Server errors, refusals, a missing module, junk, no connection, a timeout: each is
    RoleUnknown of its kind and counted; nothing falls back to a default role."""
    before = failures(kind)
    with pytest.raises(RoleUnknown) as raised:
        await policy_answering(handler).access("@alice:hs")
    assert raised.value.kind == kind
    assert failures(kind) == before + 1


@pytest.mark.parametrize("answer", [
    (404, {"errcode": "M_NOT_FOUND", "error": "No such user"}),
    (400, {"errcode": "M_INVALID_PARAM", "error": "not a user of this server"}),
])
async def test_unknown_or_remote_user_gets_no_ai(answer: tuple[int, Any]) -> None:
    """The policy's definite "no such local user" means no AI (not an unknown role)."""
    access = await policy_answering(_fail(*answer)).access("@who:elsewhere")
    assert not access.use_ai and access.allowed(["gpt-4o-mini"]) == []


async def test_failed_renewal_is_a_counted_refusal() -> None:
    """A 401 whose renewal fails too (password refused, homeserver gone) is RoleUnknown."""

    class Broken(Tokens):
        async def renew(self, failed: str) -> None:
            raise RuntimeError("Logging the bot in failed: HTTP 403 M_FORBIDDEN")

    before = failures("unauthorized")
    with pytest.raises(RoleUnknown):
        await policy_answering(_fail(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "x"}),
                               Broken()).access("@alice:hs")
    assert failures("unauthorized") == before + 1
