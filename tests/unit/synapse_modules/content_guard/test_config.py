"""Content guard configuration: parsed strictly, wired last and on by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearth.configuration.errors import ConfigError
from hearth.render import PROFILES_DIR, project_modules
from hearth.settings import SettingsError, load_settings
from hearth.synapse_modules.content_guard.config import ContentGuardConfig
from hearth.synapse_modules.content_guard.validate import Limits


def test_config_parses_defaults_and_values() -> None:
    """Defaults follow the spec; given limits are taken."""
    parsed = ContentGuardConfig.parse({"server_name": "example.org"})
    assert (parsed.server_name, parsed.limits) == ("example.org", Limits())
    assert parsed.limits.max_nesting_depth == 100
    custom = ContentGuardConfig.parse(
        {"server_name": "x", "max_body_bytes": 2048, "max_formatted_body_bytes": 4096}
    )
    assert (custom.limits.max_body_bytes, custom.limits.max_formatted_body_bytes) == (2048, 4096)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({}, r"'content_guard\.server_name': missing"),
        ({"server_name": "x", "max_body_bytes": 0}, r"'content_guard\.max_body_bytes': got 0"),
        ({"server_name": "x", "max_body_bytes": "1k"}, r"max_body_bytes': got '1k'"),
        ({"server_name": "x", "max_formatted_body_bytes": 70000},
         r"got 70000, .* less than or equal to 65536"),
        ({"server_name": "x", "max_nesting_depth": 101}, r"max_nesting_depth': got 101"),
        ({"server_name": "x", "max_body_byte": 1}, r"'content_guard\.max_body_byte': unknown"),
    ],
)
def test_config_refuses_bad_values(raw: dict[str, object], match: str) -> None:
    """A bad value names the key and what is expected."""
    with pytest.raises(ConfigError, match=match):
        ContentGuardConfig.parse(raw)


def test_module_enabled_by_default_and_last(tmp_path: Path) -> None:
    """content_guard is on by default and registered after every other module.

    Synapse skips the check_event_allowed callbacks that come after one returning a
    replacement event, so a module listed after content_guard would not see rewritten
    messages.
    """
    settings = load_settings("dev", PROFILES_DIR, tmp_path, environ={})
    modules = project_modules(settings)
    assert modules[-1].name == "content_guard"
    assert modules[-1].enabled
    assert modules[-1].path == "hearth.synapse_modules.content_guard.ContentGuardModule"
    assert modules[-1].config == {"server_name": "localhost", "max_body_bytes": 32768,
                                  "max_formatted_body_bytes": 49152}
    ContentGuardConfig.parse(modules[-1].config)


def test_settings_limits_validated(tmp_path: Path) -> None:
    """Limits outside 1 KiB..64 KiB are refused with the key named; the switch works."""
    settings = load_settings("dev", PROFILES_DIR, tmp_path, environ={},
                             assignments=("modules.content_max_body_bytes=4096",
                                          "modules.content_guard=false"))
    entry = project_modules(settings)[-1]
    assert entry.config["max_body_bytes"] == 4096 and not entry.enabled
    with pytest.raises(SettingsError, match=r"modules\.content_max_formatted_body_bytes"):
        load_settings("dev", PROFILES_DIR, tmp_path, environ={},
                      assignments=("modules.content_max_formatted_body_bytes=100000",))
