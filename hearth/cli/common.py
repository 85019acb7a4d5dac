"""What the subcommands share: the data directory, the settings options, the rendered config."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias

import yaml

from hearth.render import PROFILES_DIR
from hearth.settings import Settings, SettingsError, load_settings

EXIT_USAGE = 2
EXIT_FAILED = 1

# What ``ArgumentParser.add_subparsers`` returns; each command module adds its parser to it.
# (argparse has no public name for that type.)
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def data_dir(value: str | None) -> Path:
    """``--data-dir``, else ``$DATA_DIR``, else ./data."""
    return Path(value or os.environ.get("DATA_DIR") or "data").resolve()


def _add_render_options(parser: argparse.ArgumentParser) -> None:
    """``--profile`` and ``--set``: which settings to use."""
    parser.add_argument(
        "--profile",
        default=os.environ.get("HEARTH_PROFILE", "dev"),
        help="configuration profile: dev (SQLite, one process) or production "
        "(PostgreSQL, Redis, workers); default: dev or $HEARTH_PROFILE",
    )
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one setting (repeatable), e.g. --set auth.failed_login_limit=3",
    )


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    """``--data-dir``."""
    parser.add_argument(
        "--data-dir",
        default=None,
        help="where config, secrets, database, media and logs live (default: $DATA_DIR or ./data)",
    )


def add_command(commands: Commands, name: str, help_text: str,
                handler: Callable[[argparse.Namespace], int], *,
                settings_options: bool = False) -> argparse.ArgumentParser:
    """A subcommand with ``--data-dir`` (and ``--profile``/``--set`` when it reads settings)
    that ``main`` dispatches to ``handler``."""
    parser = commands.add_parser(name, help=help_text)
    _add_data_dir(parser)
    if settings_options:
        _add_render_options(parser)
    parser.set_defaults(handler=handler)
    return parser


def settings_from_args(args: argparse.Namespace, data: Path) -> Settings:
    """The settings ``--profile``, ``--set`` (and ``--port``, for run) select."""
    assignments = list(args.assignments)
    if getattr(args, "port", None) is not None:
        assignments.append(f"server.port={args.port}")
    return load_settings(args.profile, PROFILES_DIR, data, tuple(assignments))


def rendered_server(data: Path) -> tuple[dict[str, Any], str]:
    """The homeserver.yaml a previous render wrote into ``data``, and its local client URL."""
    path = data / "homeserver.yaml"
    if not path.is_file():
        raise SettingsError(
            f"No rendered config at {path}: run `hearth render` or `make run` first"
        )
    config: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return config, _local_url(config)


def _local_url(config: dict[str, Any]) -> str:
    for listener in config.get("listeners", []):
        names = [n for r in listener.get("resources", []) for n in r.get("names", [])]
        if listener.get("type") == "http" and "client" in names:
            host = (listener.get("bind_addresses") or ["127.0.0.1"])[0]
            host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
            return f"http://{host}:{listener['port']}"
    raise SettingsError("The rendered config has no client listener")
