"""`hearth render` refuses settings that disagree with each other or the files they name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from synapse.config._base import Config

from hearth.cli import main
from hearth.configuration.errors import ConfigError
from hearth.configuration.types import duration_ms
from hearth.render import PROFILES_DIR, render
from hearth.settings import Settings, SettingsError, load_settings
from hearth.synapse_modules.login_security.config import LoginSecurityConfig


def _settings(*assignments: str) -> Settings:
    return load_settings("dev", PROFILES_DIR, None, assignments, {})


def _refused(tmp_path: Path, *assignments: str) -> str:
    with pytest.raises(SettingsError) as caught:
        render(_settings(*assignments), tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert not (tmp_path / "homeserver.yaml").exists()  # refused before anything is written
    return message


def _module_config(path: Path, suffix: str) -> dict[str, Any]:
    config = yaml.safe_load(path.read_text())
    entry = next(m for m in config["modules"] if m["module"].endswith(suffix))
    found: dict[str, Any] = entry["config"]
    return found


def test_mfa_role_typo_is_refused(tmp_path: Path) -> None:
    """A role that is not in the policy would silently turn required MFA off: refused."""
    message = _refused(tmp_path, "login_security.mfa_required_roles=[admin, moderater]")
    assert message.startswith("Invalid setting 'login_security.mfa_required_roles[1]': "
                              "got 'moderater', expected a role of the access policy")
    assert "moderator" in message  # the known roles are listed


def test_ip_rule_role_typo_is_refused(tmp_path: Path) -> None:
    """An address rule for a role nobody has would never apply: refused."""
    message = _refused(tmp_path, "login_security.ip_rules={membr: {deny: [192.0.2.0/24]}}")
    assert message.startswith("Invalid setting 'login_security.ip_rules.membr': got 'membr'")


def test_roles_without_the_access_policy_are_admin_and_member(tmp_path: Path) -> None:
    """With the policy module off, login_security knows only admin and member."""
    message = _refused(tmp_path, "modules.access_policy=false",
                       "login_security.mfa_required_roles=[moderator]")
    assert "expected a role login_security knows without the access policy: admin, member" \
        in message
    render(_settings("modules.access_policy=false", "login_security.mfa_required_roles=[admin]"),
           tmp_path)


def test_policy_roles_are_accepted(tmp_path: Path) -> None:
    """Roles of the shipped policy pass, and reach the module config as given."""
    result = render(_settings("login_security.mfa_required_roles=[admin, moderator]",
                              "login_security.ip_rules={guest: {deny: [192.0.2.0/24]}}"),
                    tmp_path)
    config = _module_config(result.config_file, "LoginSecurityModule")
    assert config["mfa"]["required_roles"] == ["admin", "moderator"]


@pytest.mark.parametrize("duration", ["90s", "15m", "36h", "7d", "2w", "1y"])
def test_a_duration_settings_accept_means_the_same_everywhere(tmp_path: Path, duration: str
                                                              ) -> None:
    """Settings, login_security and Synapse read one duration as the same milliseconds."""
    result = render(_settings(f"login_security.failure_window={duration}",
                              f"auth.session_lifetime={duration}",
                              "auth.refreshable_access_token_lifetime=1s"), tmp_path)
    parsed = LoginSecurityConfig.parse(_module_config(result.config_file, "LoginSecurityModule"))
    rendered = yaml.safe_load(result.config_file.read_text())
    assert parsed.lockout.window_ms == duration_ms(duration)
    assert Config.parse_duration(rendered["session_lifetime"]) == duration_ms(duration)


def test_a_duration_settings_refuse_is_refused_by_login_security_too(tmp_path: Path) -> None:
    """'500ms' (which Synapse's parser rejects) is refused by both, with the same words."""
    with pytest.raises(SettingsError, match="expected a duration such as 30s") as by_settings:
        _settings("login_security.failure_window=500ms")
    raw = _module_config(render(_settings(), tmp_path).config_file, "LoginSecurityModule")
    raw["lockout"]["window"] = "500ms"
    with pytest.raises(ConfigError) as by_module:
        LoginSecurityConfig.parse(raw)
    assert str(by_settings.value).split(": ", 1)[1] == str(by_module.value).split(": ", 1)[1]


@pytest.mark.parametrize(("assignment", "expected"), [
    ("ai_bot.bot_config={streaming: {min_edit_interval_s: -1}}",
     "Invalid setting 'ai_bot.bot_config.streaming.min_edit_interval_s': got -1, input should "
     "be greater than or equal to 0.05"),
    ("ai_bot.bot_config={streamin: {}}", "Invalid setting 'ai_bot.bot_config.streamin': "
     "unknown key"),
    ("ai_bot.default_model=gpt-5-typo", "Invalid setting 'ai_bot.default_model': Unknown model "
     "'gpt-5-typo'"),
    ("ai_bot.bot_config={model: {default: gpt-5-typo}}",
     "Invalid setting 'ai_bot.bot_config.model.default': Unknown model 'gpt-5-typo'"),
    ("ai_bot.bot_config={model: {fallback: {model: nope}}}",
     "Invalid setting 'ai_bot.bot_config.model.fallback.model': Unknown model 'nope'"),
    ("ai_bot.bot_config={access: {roles: {user: {models: [gpt-4o*]}}}}",
     "Invalid setting 'ai_bot.bot_config.access': access.roles is no longer read: roles, their "
     "AI permissions and dollar budgets come from the access policy"),
    ("ai_bot.bot_config={access: {budgets_usd: {member: {daily_usd: 1}}}}",
     "Invalid setting 'ai_bot.bot_config.access': access.budgets_usd is no longer read"),
    ("ai_bot.bot_config={admin_credentials_file: /data/admin-credentials.json}",
     "Invalid setting 'ai_bot.bot_config.admin_credentials_file': unknown key"),
    ("ai_bot.bot_config={registration_shared_secret_file: /data/secrets/x}",
     "Invalid setting 'ai_bot.bot_config.registration_shared_secret_file': unknown key"),
    ("ai_bot.bot_config={model: {catalogue: {local: {context_window: 8000}}}}",
     "Invalid setting 'ai_bot.bot_config.model.catalogue': Error in configuration at "
     "'model.catalogue.local': a model that is not built in needs input_price_per_mtok"),
])
def test_a_broken_bot_value_is_refused_at_render(tmp_path: Path, assignment: str,
                                                 expected: str) -> None:
    """The bot's config is parsed as the bot will parse it, naming the setting to change."""
    assert _refused(tmp_path, assignment).startswith(expected)


def test_rendered_bot_config_names_no_admin_secret(tmp_path: Path) -> None:
    """The bot's config points at its own data only: no admin credentials, no registration
    secret (by path or by value); the room and bot spend limits pass through."""
    result = render(_settings("ai_bot.bot_config={access: {room_daily_usd: 2}}"), tmp_path)
    assert result.bot_config is not None
    text = result.bot_config.read_text()
    secret = (tmp_path / "secrets" / "registration_shared_secret").read_text().strip()
    for leak in ("admin-credentials", "registration_shared_secret", "secrets/", secret):
        assert leak not in text
    assert yaml.safe_load(text)["access"] == {"room_daily_usd": 2}


@pytest.mark.parametrize(("assignment", "expected"), [
    ("ai_bot.metrics_port=9008", "Invalid setting 'ai_bot.metrics_port': port 9008 is already "
     "metrics.port's; choose another port"),
    ("ai_bot.metrics_port=8008", "Invalid setting 'ai_bot.metrics_port': port 8008 is already "
     "server.port's"),
    ("metrics.supervisor_port=9008", "Invalid setting 'metrics.supervisor_port': port 9008 is "
     "already metrics.port's"),
])
def test_ports_that_collide_are_refused(tmp_path: Path, assignment: str, expected: str) -> None:
    """Two listeners on one port would fail at start: the second setting is named."""
    assert _refused(tmp_path, assignment).startswith(expected)


def test_bot_off_skips_its_checks(tmp_path: Path) -> None:
    """A bot that is switched off is not rendered, so its values are not judged."""
    result = render(_settings("ai_bot.enabled=false", "ai_bot.metrics_port=9008"), tmp_path)
    assert result.bot_config is None


def test_check_config_refuses_before_synapse_runs(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`hearth check-config` stops with the same one line, exit status 2."""
    status = main(["check-config", "--data-dir", str(tmp_path),
                   "--set", "login_security.mfa_required_roles=[admn]"])
    assert status == 2
    assert capsys.readouterr().err.startswith(
        "error: Invalid setting 'login_security.mfa_required_roles[0]': got 'admn'")
