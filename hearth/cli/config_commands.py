"""``render``, ``check-config`` and ``show-settings``: the configuration, without running."""

from __future__ import annotations

import argparse
import subprocess
import sys

import yaml

from hearth.cli.common import EXIT_FAILED, Commands, add_command, data_dir, settings_from_args
from hearth.render import render
from hearth.settings import settings_reference
from hearth.supervisor import python_module_argv


def register(commands: Commands) -> None:
    """Add the three subcommands."""
    add_command(commands, "render",
                "render homeserver.yaml (and worker/proxy files) into the data directory",
                cmd_render, settings_options=True)
    add_command(commands, "check-config",
                "render, then have Synapse load the result to prove it is valid",
                cmd_check_config, settings_options=True)
    show_cmd = add_command(commands, "show-settings",
                           "print the effective settings (all sources merged) as YAML",
                           cmd_show_settings, settings_options=True)
    show_cmd.add_argument(
        "--markdown", action="store_true", help="print the reference table of docs/settings.md"
    )


def cmd_render(args: argparse.Namespace) -> int:
    """Render and list the files written."""
    data = data_dir(args.data_dir)
    result = render(settings_from_args(args, data), data)
    print(f"rendered profile {result.settings.profile} into {result.data_dir}")
    for path in result.changed:
        print(f"  wrote {path}")
    if not result.changed:
        print("  nothing changed")
    return 0


def cmd_show_settings(args: argparse.Namespace) -> int:
    """Print every setting with its effective value; secrets are masked."""
    settings = settings_from_args(args, data_dir(args.data_dir))
    if args.markdown:
        print(settings_reference(settings), end="")
        return 0
    dumped = settings.model_dump(mode="json")
    for section, key in (("database", "password"), ("redis", "password"), ("email", "smtp_pass")):
        if dumped[section][key]:
            dumped[section][key] = "********"
    print(yaml.safe_dump(dumped, sort_keys=False), end="")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    """Render, then let Synapse's own config loader judge the result."""
    data = data_dir(args.data_dir)
    result = render(settings_from_args(args, data), data)
    argv = python_module_argv(
        "synapse.config", "read", "server.server_name", "-c", str(result.config_file)
    )
    checked = subprocess.run(argv, capture_output=True, text=True, check=False)
    if checked.returncode != 0:
        lines = [ln for ln in (checked.stderr or checked.stdout).splitlines() if ln.strip()]
        print(f"error: Synapse refused {result.config_file}: {lines[-1] if lines else '?'}",
              file=sys.stderr)
        return EXIT_FAILED
    server_name = checked.stdout.strip().rsplit(":", 1)[-1].strip()
    print(f"ok: Synapse accepts {result.config_file} (server_name {server_name})")
    return 0
