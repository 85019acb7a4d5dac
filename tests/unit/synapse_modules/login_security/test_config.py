"""Config and wiring: errors name their path; settings render the module, proxy and nginx."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml

from hearth.configuration.errors import ConfigError
from hearth.render import PROFILES_DIR, project_modules, render
from hearth.settings import SettingsError, load_settings
from hearth.synapse_compat.password_hash import check_password
from hearth.synapse_modules.login_security.config import LoginSecurityConfig


def _settings(*assignments: str, profile: str = "dev") -> Any:
    return load_settings(profile, PROFILES_DIR, None, assignments, {})


def _raw(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    key = tmp_path / "key"
    key.write_text("k" * 64)
    raw: dict[str, Any] = {"server_name": "hs", "public_baseurl": "https://hs/",
                           "mfa": {"secret_path": str(key), "template_dir": str(tmp_path)}}
    raw.update(changes)
    return raw


@pytest.mark.parametrize(("changes", "path"), [
    ({"lockout": {"window": "15x"}}, "login_security.lockout.window"),
    ({"lockout": {"account_failures": 0}}, "login_security.lockout.account_failures"),
    ({"lockout": {"colour": 1}}, "login_security.lockout.colour"),
    ({"trusted_proxies": ["10.0.0.0/33"]}, "login_security.trusted_proxies[0]"),
    ({"ip_rules": {"admin": {"allow": ["nope"]}}}, "login_security.ip_rules.admin.allow[0]"),
    ({"ip_rules": {"Admin!": {}}}, "login_security.ip_rules.Admin!"),
    ({"public_baseurl": "hs"}, "login_security.public_baseurl"),
])
def test_config_errors_name_the_path(tmp_path: Path, changes: dict[str, Any], path: str
                                     ) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"at '{path}'")):
        LoginSecurityConfig.parse(_raw(tmp_path, **changes))


def test_config_refuses_a_missing_secret(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    raw["mfa"]["secret_path"] = str(tmp_path / "absent")
    with pytest.raises(ConfigError, match=r"mfa\.secret_path"):
        LoginSecurityConfig.parse(raw)


def test_rendered_module_config_parses(tmp_path: Path) -> None:
    """The rendered entry is valid module config; the secret is generated like the others."""
    result = render(_settings("login_security.ip_rules={admin: {allow: [10.0.0.0/8]}}",
                              "login_security.mfa_required_roles=[admin]"), tmp_path)
    config = yaml.safe_load(result.config_file.read_text())
    entry = next(m for m in config["modules"] if m["module"].endswith("LoginSecurityModule"))
    parsed = LoginSecurityConfig.parse(entry["config"])
    assert parsed.lockout.account_failures == 5
    assert parsed.mfa.required_roles == {"admin"}
    assert str(parsed.ip_rules["admin"].allow[0]) == "10.0.0.0/8"
    key = tmp_path / "secrets" / "mfa_encryption_key"
    assert key.is_file() and key.stat().st_mode & 0o777 == 0o600
    # Our lockout comes first; Synapse's per-process limiter stays as a backstop above it.
    assert config["rc_login"]["failed_attempts"]["burst_count"] == 10
    assert config["listeners"][0]["x_forwarded"] is False


def test_module_switch_and_trusted_proxies(tmp_path: Path) -> None:
    """Off: Synapse's limiter is the lockout again. trusted_proxies turns on x_forwarded."""
    off = render(_settings("modules.login_security=false", "server.trusted_proxies=[10.0.0.1]"),
                 tmp_path)
    config = yaml.safe_load(off.config_file.read_text())
    assert config["rc_login"]["failed_attempts"]["burst_count"] == 5
    assert config["listeners"][0]["x_forwarded"] is True
    assert not any(m["module"].endswith("LoginSecurityModule") for m in config["modules"])
    entry = next(m for m in project_modules(_settings()) if m.name == "login_security")
    assert entry.enabled and entry.config["mfa"]["secret_path"] == ""


@pytest.mark.parametrize(("assignment", "key"), [
    ("server.trusted_proxies=[nonsense]", "server.trusted_proxies"),
    ("login_security.failure_window=soon", "login_security.failure_window"),
    ("login_security.ip_rules={admin: {deny: [300.1.1.1]}}", "login_security.ip_rules"),
    ("login_security.mfa_required_roles=[Root!]", "login_security.mfa_required_roles"),
])
def test_bad_settings_are_refused(assignment: str, key: str) -> None:
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        _settings(assignment)


def test_proxy_needs_trusted_proxies() -> None:
    with pytest.raises(SettingsError, match=r"trusted_proxies"):
        _settings("proxy.enabled=true")


def test_production_nginx_restricts_admin_paths(tmp_path: Path) -> None:
    """The rendered proxy config limits /_synapse/admin and our admin API to admin ranges."""
    result = render(_settings("proxy.admin_allowed_ranges=[10.20.0.0/16]",
                              profile="production"), tmp_path)
    assert result.proxy_config is not None
    nginx = result.proxy_config.read_text()
    for location in ("location ^~ /_synapse/admin {",
                     "location ^~ /_synapse/client/hearth/v1/admin {"):
        block = nginx.split(location, 1)[1].split("}", 1)[0]
        assert "allow 10.20.0.0/16;" in block and "deny all;" in block
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx
    config = yaml.safe_load(result.config_file.read_text())
    assert config["listeners"][0]["x_forwarded"] is True
    entry = next(m for m in config["modules"] if m["module"].endswith("LoginSecurityModule"))
    assert entry["config"]["mfa"]["required_roles"] == ["admin"]
    assert entry["config"]["trusted_proxies"] == ["127.0.0.1"]


def test_password_check_mirrors_synapse() -> None:
    """NFKC, pepper, 72-byte truncation, NULL and malformed hashes, as Synapse hashes them."""
    def synapse_hash(password: str, pepper: str = "") -> str:
        import unicodedata
        raw = (unicodedata.normalize("NFKC", password) + pepper).encode()[:72]
        return bcrypt.hashpw(raw, bcrypt.gensalt(4)).decode()

    assert check_password("café-1", synapse_hash("café-1"))
    assert check_password("\uff46\uff55\uff4c\uff4c", synapse_hash("full"))  # fullwidth folds
    assert check_password("x" * 100, synapse_hash("x" * 80))  # both cut to 72 bytes
    assert check_password("pw", synapse_hash("pw", "pep"), "pep")
    assert not check_password("pw", synapse_hash("pw", "pep"))
    assert not check_password("pw", None) and not check_password("pw", "not-a-hash")
