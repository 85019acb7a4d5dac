"""The rate-limit raise both servers get, so load tests measure the server, not its limiter."""

from __future__ import annotations

from typing import Any

# Keys of hearth's ``rate_limits`` settings section.
RAISED = {
    "message_per_second": 100000,
    "message_burst": 100000,
    "registration_per_second": 100000,
    "registration_burst": 100000,
    "login_per_second": 100000,
    "login_burst": 100000,
}


def hearth_assignments() -> list[str]:
    """``--set`` values for ``hearth run``."""
    return [f"rate_limits.{key}={value}" for key, value in RAISED.items()]


def synapse_config() -> dict[str, Any]:
    """The same limits as Synapse config keys, for the vanilla server."""
    login = {"per_second": RAISED["login_per_second"], "burst_count": RAISED["login_burst"]}
    return {
        "rc_message": {
            "per_second": RAISED["message_per_second"],
            "burst_count": RAISED["message_burst"],
        },
        "rc_registration": {
            "per_second": RAISED["registration_per_second"],
            "burst_count": RAISED["registration_burst"],
        },
        "rc_login": {"address": dict(login), "account": dict(login)},
    }
