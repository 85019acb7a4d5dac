"""The ``hearth`` command line: the parser, and the errors every subcommand turns into one
``error:`` line and an exit status."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from hearth import synapse_admin as admin
from hearth.cli import config_commands, doctor, run, status, users
from hearth.cli.common import EXIT_FAILED, EXIT_USAGE
from hearth.preflight import PreflightError
from hearth.settings import SettingsError
from hearth.supervisor import StartError

# Subcommands in the order ``hearth --help`` lists them.
COMMAND_MODULES = (config_commands, run, users, status, doctor)


def build_parser() -> argparse.ArgumentParser:
    """The command line, with ``--help`` on every subcommand."""
    parser = argparse.ArgumentParser(
        prog="hearth",
        description="Run and manage the Hearth Matrix homeserver distribution (Synapse + modules).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hearth`` command."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (PreflightError, StartError, admin.AdminError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
