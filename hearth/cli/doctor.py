"""``doctor``: check the settings, database, Redis, homeserver, model endpoint and mail
server in turn; say for each what is wrong and how to fix it."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from hearth.cli.common import EXIT_FAILED, Commands, add_command, data_dir, settings_from_args
from hearth.doctor.findings import Finding
from hearth.doctor.runner import has_problem, run_checks

LABELS = {"ok": "ok", "warning": "warning", "problem": "PROBLEM"}


def register(commands: Commands) -> None:
    """Add the subcommand."""
    doctor_cmd = add_command(commands, "doctor",
                             "check settings, database, Redis, homeserver, model endpoint and mail",
                             cmd_doctor, settings_options=True)
    doctor_cmd.add_argument("--json", action="store_true", help="machine-readable output")


def finding_lines(finding: Finding) -> list[str]:
    """``ok       database: ...``, and a ``fix:`` line under anything not ok."""
    lines = [f"{LABELS[finding.level]:<8} {finding.check}: {finding.what}"]
    if finding.fix:
        lines.append(f"{'':<8} fix: {finding.fix}")
    return lines


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print each finding; exit 1 when any is a problem."""
    data = data_dir(args.data_dir)
    findings = run_checks(lambda: settings_from_args(args, data), data)
    if args.json:
        print(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        for finding in findings:
            print("\n".join(finding_lines(finding)))
    return EXIT_FAILED if has_problem(findings) else 0
