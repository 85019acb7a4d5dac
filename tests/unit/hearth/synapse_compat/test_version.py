"""Each module refuses to load on a Synapse release series it was not tested with."""

from __future__ import annotations

from typing import Any

import pytest
import synapse
from synapse.module_api.errors import ConfigError

from hearth import synapse_compat
from hearth.synapse_modules.access_policy.module import AccessPolicyModule
from hearth.synapse_modules.business_metrics.module import BusinessMetricsModule
from hearth.synapse_modules.content_guard.module import ContentGuardModule
from hearth.synapse_modules.login_security.module import LoginSecurityModule

MODULES: dict[str, Any] = {
    "access_policy": AccessPolicyModule,
    "business_metrics": BusinessMetricsModule,
    "content_guard": ContentGuardModule,
    "login_security": LoginSecurityModule,
}


@pytest.mark.parametrize("version", ["1.163.0", "1.163.2", "1.163.2 (b=main,4007d7f)"])
def test_check_supported_tested_series_loads(monkeypatch: pytest.MonkeyPatch,
                                             version: str) -> None:
    """Any 1.163.x release passes, with or without Synapse's build suffix."""
    monkeypatch.setattr(synapse, "__version__", version)
    synapse_compat.check_supported("login_security")


@pytest.mark.parametrize("name", sorted(MODULES))
@pytest.mark.parametrize("version", ["1.164.0", "1.162.9", "2.163.0", "1.163rc1"])
def test_parse_config_other_synapse_refused_with_both_versions(
    monkeypatch: pytest.MonkeyPatch, name: str, version: str,
) -> None:
    """Synapse's ConfigError says which series the module was tested with and what runs."""
    monkeypatch.setattr(synapse, "__version__", version)
    with pytest.raises(ConfigError) as refused:
        MODULES[name].parse_config({})
    assert str(refused.value.msg).startswith(
        f"Hearth's {name} was tested with Synapse 1.163.x; this is {version}.")


def test_installed_synapse_is_the_tested_series() -> None:
    """The Synapse this checkout installs is one the modules load on."""
    assert synapse_compat.synapse_version().startswith("1.163.")
    synapse_compat.check_supported("content_guard")
