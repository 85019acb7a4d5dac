"""The bot's config and the AI permissions of roles."""

from __future__ import annotations

import pytest

from hearth.ai_bot.config import parse_config
from hearth.ai_bot.permissions import AccessPolicy, RequestRate, access_from_policy
from hearth.configuration.errors import ConfigError


def test_config_defaults_env_and_errors() -> None:
    """Defaults load; env overrides win; a bad value names its path."""
    config = parse_config({}, environ={"HEARTH_AI__STREAMING__MIN_EDIT_INTERVAL_S": "0.5",
                                       "OPENAI_API_KEY": "k"})
    assert config.streaming.min_edit_interval_s == 0.5
    assert config.api_key({"OPENAI_API_KEY": "k"}) == "k"
    assert config.api_key({}) == ""
    with pytest.raises(ConfigError, match=r"'streaming\.min_edit_interval_s'"):
        parse_config({"streaming": {"min_edit_interval_s": -1}}, environ={})
    with pytest.raises(ConfigError, match="at 'nope': unknown key"):
        parse_config({"nope": 1}, environ={})
    with pytest.raises(ConfigError, match="role 'x' is not defined"):
        parse_config({"access": {"default_role": "x"}}, environ={})


async def test_access_from_policy_answer_and_fallback() -> None:
    """The access policy's answer wins; without it the config's roles apply."""
    config = parse_config({"access": {"assignments": {"@g*": "guest"},
                                      "roles": {"user": {}, "guest": {"use_ai": False}},
                                      "budgets_usd": {"member": {"daily_usd": 1.5}}}},
                          environ={})

    async def lookup(user_id: str) -> dict[str, object] | None:
        if user_id.startswith("@p"):
            return {"role": "member", "permissions": {"ai": {
                "enabled": True, "models": ["gpt-4o-mini"], "daily_token_budget": 1000}},
                "rate_limits": {"ai_requests": {"per_second": 1, "burst": 2}}}
        return None

    policy = AccessPolicy(config.access, lookup)
    member = await policy.access("@p:hs")
    assert member.may_use_model("gpt-4o-mini") and not member.may_use_model("gpt-4o")
    assert (member.daily_usd, member.daily_token_budget, member.rate) == (1.5, 1000, (1.0, 2))
    assert not (await policy.access("@guest:hs")).use_ai
    assert (await policy.access("@u:hs")).may_use_model("anything")
    assert access_from_policy({"role": "x"}, config.access).use_ai is False


def test_request_rate_token_bucket() -> None:
    """Requests beyond the burst wait for the bucket to refill."""
    now = [0.0]
    rate = RequestRate(clock=lambda: now[0])
    assert rate.check("@u", (0.5, 2)) == 0 and rate.check("@u", (0.5, 2)) == 0
    assert rate.check("@u", (0.5, 2)) == pytest.approx(2.0)
    now[0] = 2.0
    assert rate.check("@u", (0.5, 2)) == 0
    assert rate.check("@u", None) == 0
