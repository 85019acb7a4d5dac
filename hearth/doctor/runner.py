"""Run the checks in order: settings first (the others need them), then each service."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hearth.doctor.database import check_database
from hearth.doctor.findings import Finding, ok, problem
from hearth.doctor.homeserver import check_homeserver
from hearth.doctor.mail import check_mail
from hearth.doctor.model_endpoint import check_model_endpoint
from hearth.doctor.redis import check_redis
from hearth.settings import Settings, SettingsError


def run_checks(load_settings: Callable[[], Settings], data_dir: Path) -> list[Finding]:
    """Every finding, in the order ``hearth doctor`` prints them."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        return [problem("settings", str(exc),
                        "correct that setting in settings.yaml, the --set option or the "
                        "HEARTH__SECTION__KEY variable; `hearth show-settings` lists them")]
    return [
        ok("settings", f"profile {settings.profile}, data directory {data_dir}"),
        check_database(settings.database, data_dir),
        check_redis(settings.redis),
        check_homeserver(settings.server),
        check_model_endpoint(settings.ai_bot),
        check_mail(settings.email),
    ]


def has_problem(findings: list[Finding]) -> bool:
    """True when any finding is a problem (``hearth doctor`` then exits 1)."""
    return any(finding.level == "problem" for finding in findings)
