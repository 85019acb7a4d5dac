"""The bot's config: defaults, environment, errors, and no rules or admin secrets of its own."""

from __future__ import annotations

import pytest

from hearth.ai_bot.config import parse_config
from hearth.ai_bot.permissions import RequestRate
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


@pytest.mark.parametrize("key", ["default_role", "assignments", "roles", "budgets_usd"])
def test_config_refuses_rules_of_its_own(key: str) -> None:
    """Roles, assignments and role budgets are the access policy's: the bot config refuses
    them, saying where they live now."""
    with pytest.raises(ConfigError, match=rf"access\.{key} is no longer read.*policy"):
        parse_config({"access": {key: {}}}, environ={})
    with pytest.raises(ConfigError, match=rf"access\.{key} is no longer read"):
        parse_config({}, environ={f"HEARTH_AI__ACCESS__{key.upper()}": "{}"})


@pytest.mark.parametrize("key", ["admin_credentials_file", "registration_shared_secret_file"])
def test_config_refuses_admin_secret_paths(key: str) -> None:
    """A bot config that names an admin secret is refused, naming the key."""
    with pytest.raises(ConfigError, match=f"at '{key}': unknown key"):
        parse_config({key: "/somewhere/secret"}, environ={})


def test_config_keeps_room_and_bot_spend_limits() -> None:
    """The deployment's own limits (per room, for the bot account) stay in the bot config."""
    access = parse_config({"access": {"room_daily_usd": 2, "bot_monthly_usd": 100}},
                          environ={}).access
    assert (access.room_daily_usd, access.bot_monthly_usd) == (2, 100)


def test_request_rate_token_bucket() -> None:
    """Requests beyond the burst wait for the bucket to refill."""
    now = [0.0]
    rate = RequestRate(clock=lambda: now[0])
    assert rate.check("@u", (0.5, 2)) == 0 and rate.check("@u", (0.5, 2)) == 0
    assert rate.check("@u", (0.5, 2)) == pytest.approx(2.0)
    now[0] = 2.0
    assert rate.check("@u", (0.5, 2)) == 0
    assert rate.check("@u", None) == 0
