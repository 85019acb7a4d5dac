"""Settings: every source merges in order and a bad value is refused in one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearth.configuration.loader import parse_assignment
from hearth.configuration.types import duration_ms
from hearth.render import PROFILES_DIR
from hearth.settings import SettingsError, load_settings


def _load(*assignments: str, environ: dict[str, str] | None = None,
          data_dir: Path | None = None, profile: str = "dev"):
    return load_settings(profile, PROFILES_DIR, data_dir, assignments, environ or {})


def test_dev_defaults_follow_requirements() -> None:
    """The dev profile keeps 5 failed logins, tokens well under 24 h and sessions under 12 h."""
    settings = _load()
    assert settings.database.engine == "sqlite"
    assert settings.auth.failed_login_limit == 5
    assert duration_ms(settings.auth.refreshable_access_token_lifetime) < 24 * 3_600_000
    assert duration_ms(settings.auth.session_lifetime) < 12 * 3_600_000
    assert settings.search.enabled and settings.search.user_directory_enabled
    assert settings.email.enabled


def test_sources_override_in_order(tmp_path: Path) -> None:
    """Profile < settings.yaml < environment < --set."""
    (tmp_path / "settings.yaml").write_text("server:\n  port: 8100\n  name: file.example\n")
    settings = _load(
        "server.port=8300",
        environ={"HEARTH__SERVER__PORT": "8200", "HEARTH__AUTH__FAILED_LOGIN_LIMIT": "7"},
        data_dir=tmp_path,
    )
    assert settings.server.port == 8300
    assert settings.server.name == "file.example"
    assert settings.auth.failed_login_limit == 7


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ("auth.failed_login_limit=abc",
         "Invalid setting 'auth.failed_login_limit': got 'abc', input should be a valid integer"),
        ("auth.failed_login_limit=0",
         "Invalid setting 'auth.failed_login_limit': got 0, input should be greater than or equal"),
        ("auth.session_lifetime=12x",
         "Invalid setting 'auth.session_lifetime': got '12x', expected a duration"),
        ("server.port=70000", "Invalid setting 'server.port': got 70000"),
        ("database.engine=mysql",
         "Invalid setting 'database.engine': got 'mysql', input should be 'sqlite' or 'postgres'"),
        ("media.max_upload_size=huge",
         "Invalid setting 'media.max_upload_size': got 'huge', expected a size"),
        ("auth.colour=blue", "Invalid setting 'auth.colour': unknown key"),
    ],
)
def test_bad_value_is_refused_with_key_value_and_expectation(
    assignment: str, expected: str
) -> None:
    """The message names the key, the value and what is expected, on one line."""
    with pytest.raises(SettingsError) as caught:
        _load(assignment)
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_cross_checks_refuse_inconsistent_combinations() -> None:
    """Workers without PostgreSQL, and access tokens outliving the session, are refused."""
    with pytest.raises(SettingsError, match=r"workers need database\.engine=postgres"):
        _load("workers.generic_workers=1")
    with pytest.raises(SettingsError, match="must not exceed session_lifetime"):
        _load("auth.refreshable_access_token_lifetime=12h", "auth.session_lifetime=1h")
    with pytest.raises(SettingsError, match=r"collides with server\.port"):
        _load("metrics.port=8008")
    with pytest.raises(SettingsError, match="cp_min"):
        _load("database.cp_min=20", "database.cp_max=5")


def test_unknown_profile_lists_the_known_ones() -> None:
    """Asking for a profile that does not exist names the ones that do."""
    with pytest.raises(SettingsError, match="expected one of dev, production"):
        _load(profile="staging")


def test_malformed_inputs_are_refused(tmp_path: Path) -> None:
    """A --set without '=', a non-mapping settings file and broken YAML are refused clearly."""
    with pytest.raises(SettingsError, match=r"expected section\.key=value"):
        parse_assignment("server.port")
    (tmp_path / "settings.yaml").write_text("- just\n- a list\n")
    with pytest.raises(SettingsError, match="expected a mapping"):
        _load(data_dir=tmp_path)
    (tmp_path / "settings.yaml").write_text("server: [unclosed\n")
    with pytest.raises(SettingsError, match="Invalid YAML"):
        _load(data_dir=tmp_path)
