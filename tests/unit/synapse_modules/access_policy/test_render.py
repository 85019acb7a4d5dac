"""Wiring: the rendered config loads the access policy module with the right policy and Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hearth.render import PROFILES_DIR, PROJECT_DIR, render
from hearth.settings import load_settings

MODULE = "hearth.synapse_modules.access_policy.module.AccessPolicyModule"


def _rendered(tmp_path: Path, *assignments: str) -> dict[str, Any]:
    settings = load_settings("dev", PROFILES_DIR, None, assignments, {})
    loaded: dict[str, Any] = yaml.safe_load(render(settings, tmp_path).config_file.read_text())
    return loaded


def _module_config(config: dict[str, Any]) -> dict[str, Any] | None:
    for entry in config["modules"]:
        if entry["module"] == MODULE:
            found: dict[str, Any] = entry["config"]
            return found
    return None


def test_dev_render_loads_the_shipped_policy_without_redis(tmp_path: Path) -> None:
    """By default: config/policy.yaml, in-process counters, Synapse's floor limiters kept."""
    config = _rendered(tmp_path)
    module = _module_config(config)
    assert module is not None
    assert module["policy_file"] == str(PROJECT_DIR / "config" / "policy.yaml")
    assert module["redis"] is None and module["max_upload_size"] == "50M"
    assert config["rc_message"]["per_second"] > 0  # the floor stays on
    assert config["room_list_publication_rules"] == [{"action": "allow"}]


def test_render_passes_redis_and_a_custom_policy_file(tmp_path: Path) -> None:
    """With Redis on, the module shares its counters there; an absolute policy path is kept."""
    config = _rendered(tmp_path, "redis.enabled=true", "redis.port=6380",
                       "modules.access_policy_file=/etc/hearth/policy.yaml")
    module = _module_config(config)
    assert module is not None and module["policy_file"] == "/etc/hearth/policy.yaml"
    assert module["redis"] == {"host": "127.0.0.1", "port": 6380, "dbid": 0, "password": ""}


def test_disabled_module_leaves_synapse_defaults(tmp_path: Path) -> None:
    """Switched off: no module, and Synapse's own directory publication rule applies."""
    config = _rendered(tmp_path, "modules.access_policy=false")
    assert _module_config(config) is None
    assert "room_list_publication_rules" not in config
