"""The rate-limit raise both servers get, so load tests measure the server, not its limiter.

Synapse's own limiters are raised on both servers. Ours also has the access policy's per-role
limits: the bench gives it a copy of the shipped policy with every role's limits raised the
same way, so the module still runs its checks but never refuses.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from hearth.render import PROFILES_DIR, PROJECT_DIR
from hearth.settings import load_settings

RAISED_RATE = 100000

# Keys of hearth's ``rate_limits`` settings section.
RAISED = {
    "message_per_second": RAISED_RATE,
    "message_burst": RAISED_RATE,
    "registration_per_second": RAISED_RATE,
    "registration_burst": RAISED_RATE,
    "login_per_second": RAISED_RATE,
    "login_burst": RAISED_RATE,
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


def shipped_policy_file(profile: str = "dev") -> Path | None:
    """The access-policy file ``hearth run`` would load, or None when the module is off."""
    modules = load_settings(profile, PROFILES_DIR).modules
    if not getattr(modules, "access_policy", False):
        return None
    name = getattr(modules, "access_policy_file", None)
    return PROJECT_DIR / name if name else None


def raised_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """``policy`` with every limit each role lists raised; inherited ones come raised from
    the parent role."""
    raised = copy.deepcopy(policy)
    high = {"per_second": RAISED_RATE, "burst": RAISED_RATE}
    for role in raised.get("roles", {}).values():
        limits = role.get("rate_limits") or {}
        role["rate_limits"] = {name: dict(high) for name in limits}
    return raised


def write_raised_policy(target: Path) -> Path | None:
    """Write the raised copy of the shipped policy to ``target``; None when there is none."""
    source = shipped_policy_file()
    if source is None or not source.is_file():
        return None
    policy = yaml.safe_load(source.read_text(encoding="utf-8"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(raised_policy(policy), sort_keys=False), encoding="utf-8")
    return target
