"""Module config errors come out of Synapse's own module loader as Synapse's ConfigError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from synapse.config import ConfigError as SynapseConfigError
from synapse.config._base import format_config_error
from synapse.util.module_loader import load_module

from hearth.configuration.module_config import FrozenConfig, parse_module_config
from hearth.configuration.types import DurationMs
from hearth.render import PROJECT_DIR

POLICY = str(PROJECT_DIR / "config" / "policy.yaml")


def _login_security(tmp_path: Path, **lockout: Any) -> dict[str, Any]:
    key = tmp_path / "key"
    key.write_text("k" * 64)
    return {"server_name": "hs", "public_baseurl": "https://hs/", "lockout": lockout,
            "mfa": {"secret_path": str(key), "template_dir": str(tmp_path)}}


@pytest.mark.parametrize(("module", "config", "line"), [
    ("login_security.LoginSecurityModule", "login_security",
     "Error in configuration at 'login_security.lockout.window': got '15x', expected a "
     "duration such as 30s, 15m, 11h or 7d"),
    ("access_policy.module.AccessPolicyModule",
     {"server_name": "hs", "policy_file": POLICY, "max_upload_size": "1.5G"},
     "Error in configuration at 'access_policy.max_upload_size': got '1.5G', expected a size "
     "such as 512K, 50M or 2G"),
    ("content_guard.ContentGuardModule", {"server_name": "hs", "max_body_bytes": True},
     "Error in configuration at 'content_guard.max_body_bytes': got True, input should be a "
     "valid integer"),
    ("business_metrics.BusinessMetricsModule", {"server_name": "hs", "colour": 1},
     "Error in configuration at 'business_metrics.colour': unknown key"),
])
def test_synapse_refuses_a_bad_module_config_naming_the_path(
    tmp_path: Path, module: str, config: Any, line: str
) -> None:
    """Synapse's loader wraps our ConfigError; the message keeps the key, value, expectation."""
    if config == "login_security":
        config = _login_security(tmp_path, window="15x")
    provider = {"module": f"hearth.synapse_modules.{module}", "config": config}
    with pytest.raises(SynapseConfigError) as caught:
        load_module(provider, ("modules", "<item 1>"))
    printed = "".join(format_config_error(caught.value))
    assert printed.startswith("Error in configuration at 'modules.<item 1>.config':")
    assert printed.rstrip().endswith(line)


def test_parse_module_config_refuses_a_non_mapping() -> None:
    """A section that is not a mapping (or absent: all defaults) is named as such."""
    class Example(FrozenConfig):
        window_ms: DurationMs = 1000

    assert parse_module_config(Example, None, "example").window_ms == 1000
    with pytest.raises(SynapseConfigError, match="at 'example': got \\[1\\], expected a mapping"):
        parse_module_config(Example, [1], "example")
    parsed = parse_module_config(Example, {"window_ms": "2s"}, "example")
    assert parsed.window_ms == 2000
    with pytest.raises(Exception, match="frozen"):
        parsed.window_ms = 5  # type: ignore[misc]
