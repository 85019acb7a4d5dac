"""Every use of a Synapse internal goes through this package, which names them all.

The modules use Synapse's documented module API (``synapse.module_api``, ``synapse.api.errors``,
``synapse.types``, ``synapse.events``) directly. Anything beyond it — HTTP resource classes,
the logging context's request record, the password hash format, Synapse's own tables — is
imported from the submodules here and listed in :mod:`.registry` with the Synapse file it
comes from and why we need it. Each entry has a contract test against the real thing
(``tests/unit/hearth/synapse_compat/test_*.py`` against the installed code,
``tests/integration/hearth/test_synapse_compat.py`` against a running server).

Internals change without notice between Synapse releases, so every module calls
:func:`check_supported` when Synapse loads it and refuses to start on a release series it was
not tested with.
"""

from __future__ import annotations

import re

import synapse
from synapse.module_api.errors import ConfigError

SUPPORTED_SERIES = (1, 163)
_RELEASE = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def synapse_version() -> str:
    """The running Synapse's release (``synapse.__version__`` without any build suffix)."""
    raw = str(synapse.__version__)
    found = _RELEASE.match(raw)
    return found.group(0) if found else raw


def check_supported(module: str) -> None:
    """Refuse to load ``module`` (a ConfigError) on a Synapse outside the tested series."""
    version = synapse_version()
    found = _RELEASE.fullmatch(version)
    if found is None or (int(found.group(1)), int(found.group(2))) != SUPPORTED_SERIES:
        series = ".".join(str(part) for part in SUPPORTED_SERIES)
        raise ConfigError(
            f"Hearth's {module} was tested with Synapse {series}.x; this is {version}. It "
            "relies on Synapse internals (listed in hearth/synapse_compat/"
            f"registry.py): install Synapse {series}.x, or a Hearth release tested with "
            f"{version}.")
