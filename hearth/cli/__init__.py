"""``hearth``: render the configuration, run the homeserver, manage users, show status."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from hearth import synapse_admin as admin
from hearth.ai_bot.strings import ENABLE_HINT
from hearth.preflight import PreflightError, preflight
from hearth.render import PROFILES_DIR, Rendered, render
from hearth.settings import Settings, SettingsError, load_settings, settings_reference
from hearth.structured_log import configure_logging
from hearth.supervisor import ProcessSpec, StartError, Supervisor, python_module_argv

logger = logging.getLogger("hearth")

EXIT_USAGE = 2
EXIT_FAILED = 1


def _data_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("DATA_DIR") or "data").resolve()


def _add_render_options(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument(
        "--data-dir",
        default=None,
        help="where config, secrets, database, media and logs live (default: $DATA_DIR or ./data)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line, with ``--help`` on every subcommand."""
    parser = argparse.ArgumentParser(
        prog="hearth",
        description="Run and manage the Hearth Matrix homeserver distribution (Synapse + modules).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    render_cmd = commands.add_parser(
        "render", help="render homeserver.yaml (and worker/proxy files) into the data directory"
    )
    _add_data_dir(render_cmd)
    _add_render_options(render_cmd)

    check_cmd = commands.add_parser(
        "check-config", help="render, then have Synapse load the result to prove it is valid"
    )
    _add_data_dir(check_cmd)
    _add_render_options(check_cmd)

    run_cmd = commands.add_parser(
        "run", help="render, start and supervise the homeserver until Ctrl-C"
    )
    _add_data_dir(run_cmd)
    _add_render_options(run_cmd)
    run_cmd.add_argument("--port", type=int, default=None, help="client port (server.port)")
    run_cmd.add_argument(
        "--admin-user", default="admin", help="name of the admin account created on first run"
    )

    create_cmd = commands.add_parser(
        "create-user", help="create an account through the shared-secret registration API"
    )
    _add_data_dir(create_cmd)
    create_cmd.add_argument("username", help="localpart of the new account, e.g. alice")
    create_cmd.add_argument("--password", default=None, help="password (generated if omitted)")
    create_cmd.add_argument("--admin", action="store_true", help="make the account a server admin")
    create_cmd.add_argument("--displayname", default=None, help="display name")

    admin_cmd = commands.add_parser("make-admin", help="grant (or --revoke) server admin")
    _add_data_dir(admin_cmd)
    admin_cmd.add_argument("user_id", help="full user ID, e.g. @alice:localhost")
    admin_cmd.add_argument("--revoke", action="store_true", help="remove admin instead")

    show_cmd = commands.add_parser(
        "show-settings", help="print the effective settings (all sources merged) as YAML"
    )
    _add_data_dir(show_cmd)
    _add_render_options(show_cmd)
    show_cmd.add_argument(
        "--markdown", action="store_true", help="print the reference table of docs/settings.md"
    )

    status_cmd = commands.add_parser("status", help="show whether the homeserver is up")
    _add_data_dir(status_cmd)
    status_cmd.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _settings(args: argparse.Namespace, data_dir: Path) -> Settings:
    assignments = list(args.assignments)
    if getattr(args, "port", None) is not None:
        assignments.append(f"server.port={args.port}")
    return load_settings(args.profile, PROFILES_DIR, data_dir, tuple(assignments))


def _rendered_config(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "homeserver.yaml"
    if not path.is_file():
        raise SettingsError(
            f"No rendered config at {path}: run `hearth render` or `make run` first"
        )
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def _local_url(config: dict[str, Any]) -> str:
    for listener in config.get("listeners", []):
        names = [n for r in listener.get("resources", []) for n in r.get("names", [])]
        if listener.get("type") == "http" and "client" in names:
            host = (listener.get("bind_addresses") or ["127.0.0.1"])[0]
            host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
            return f"http://{host}:{listener['port']}"
    raise SettingsError("The rendered config has no client listener")


def cmd_render(args: argparse.Namespace) -> int:
    """Render and list the files written."""
    data_dir = _data_dir(args.data_dir)
    result = render(_settings(args, data_dir), data_dir)
    print(f"rendered profile {result.settings.profile} into {result.data_dir}")
    for path in result.changed:
        print(f"  wrote {path}")
    if not result.changed:
        print("  nothing changed")
    return 0


def cmd_show_settings(args: argparse.Namespace) -> int:
    """Print every setting with its effective value; secrets are masked."""
    settings = _settings(args, _data_dir(args.data_dir))
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
    data_dir = _data_dir(args.data_dir)
    result = render(_settings(args, data_dir), data_dir)
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


def _process_specs(result: Rendered) -> list[ProcessSpec]:
    settings = result.settings
    logs = result.data_dir / "logs"
    specs = [
        ProcessSpec(
            name="synapse",
            argv=python_module_argv("synapse.app.homeserver", "-c", str(result.config_file)),
            log_file=logs / "synapse.out",
            health_url=f"http://127.0.0.1:{settings.server.port}/health",
        )
    ]
    for worker in result.workers:
        specs.append(
            ProcessSpec(
                name=worker.name,
                argv=python_module_argv(
                    "synapse.app.generic_worker",
                    "-c", str(result.config_file), "-c", str(worker.config_file),
                ),
                log_file=logs / f"{worker.name}.out",
                health_url=f"http://127.0.0.1:{worker.port}/health",
            )
        )
    return specs


def _ensure_admin(result: Rendered, base_url: str, username: str) -> None:
    if admin.load_admin_credentials(result.data_dir) is not None:
        print(f"admin credentials: {result.data_dir / admin.ADMIN_CREDENTIALS_FILE}")
        return
    try:
        account = admin.register_user(
            base_url, result.secrets.read("registration_shared_secret"), username, admin=True
        )
    except admin.AdminError as exc:
        print(f"warning: could not create the admin account: {exc}", file=sys.stderr)
        return
    path = admin.save_admin_credentials(result.data_dir, account, base_url)
    print(f"created admin account {account.user_id} with password {account.password}")
    print(f"admin credentials saved to {path} (mode 0600)")


def _bot_api_key(result: Rendered) -> str:
    key_file = result.settings.ai_bot.api_key_file
    if key_file:
        path = Path(key_file)
        return path.read_text(encoding="utf-8").strip() if path.is_file() else ""
    return os.environ.get("OPENAI_API_KEY", "").strip()


def _start_bot(supervisor: Supervisor, result: Rendered) -> None:
    """The AI bot joins the supervised processes when a model API key is configured."""
    if result.bot_config is None:
        return
    if not _bot_api_key(result):
        print(ENABLE_HINT, flush=True)
        return
    spec = ProcessSpec(
        name="ai_bot",
        argv=python_module_argv("hearth.ai_bot", "--config", str(result.bot_config)),
        log_file=result.data_dir / "logs" / "ai_bot.out",
    )
    print(f"starting {spec.name} (log: {spec.log_file})", flush=True)
    supervisor.start(spec)


def cmd_run(args: argparse.Namespace) -> int:
    """Render, start everything, say ready, and supervise until Ctrl-C or SIGTERM."""
    data_dir = _data_dir(args.data_dir)
    settings = _settings(args, data_dir)
    preflight(settings)
    result = render(settings, data_dir)
    configure_logging(result.data_dir / "logs" / "hearth.log")
    stop_requested = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    supervisor = Supervisor()
    base_url = f"http://127.0.0.1:{settings.server.port}"
    for spec in _process_specs(result):
        print(f"starting {spec.name} (log: {spec.log_file})", flush=True)
        supervisor.start(spec)
        logger.info("started process=%s pid=%s", spec.name, supervisor.running[-1].process.pid)
        if stop_requested:
            supervisor.stop_all()
            return EXIT_FAILED
    _ensure_admin(result, base_url, args.admin_user)
    _start_bot(supervisor, result)
    print(f"ready: {base_url} (server name {settings.server.name}, profile {settings.profile})",
          flush=True)
    print(f"connect a client to {base_url}; stop with Ctrl-C", flush=True)
    supervisor.supervise(lambda: stop_requested)
    print("stopped", flush=True)
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create an account on the running server."""
    data_dir = _data_dir(args.data_dir)
    config = _rendered_config(data_dir)
    account = admin.register_user(
        _local_url(config), config["registration_shared_secret"], args.username,
        password=args.password, admin=args.admin, displayname=args.displayname,
    )
    print(f"created {account.user_id}" + (" (admin)" if args.admin else ""))
    if args.password is None:
        print(f"password: {account.password}")
    return 0


def cmd_make_admin(args: argparse.Namespace) -> int:
    """Grant or revoke admin with the saved admin's token."""
    data_dir = _data_dir(args.data_dir)
    config = _rendered_config(data_dir)
    credentials = admin.load_admin_credentials(data_dir)
    if credentials is None:
        print(f"error: no admin credentials in {data_dir}; run `make run` once first",
              file=sys.stderr)
        return EXIT_FAILED
    admin.set_admin(_local_url(config), credentials["access_token"], args.user_id,
                    admin=not args.revoke)
    print(f"{args.user_id} is {'no longer ' if args.revoke else ''}a server admin")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Report whether the server answers; exit 1 when it does not."""
    data_dir = _data_dir(args.data_dir)
    config = _rendered_config(data_dir)
    status = admin.server_status(_local_url(config))
    status["server_name"] = config.get("server_name")
    status["data_dir"] = str(data_dir)
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        state = "up" if status["up"] else "down"
        print(f"{status['server_name']} at {status['url']}: {state}")
        for key in ("server_version", "versions", "error"):
            if key in status:
                value = status[key]
                print(f"  {key}: {', '.join(value) if isinstance(value, list) else value}")
    return 0 if status["up"] else EXIT_FAILED


COMMANDS = {
    "render": cmd_render,
    "check-config": cmd_check_config,
    "show-settings": cmd_show_settings,
    "run": cmd_run,
    "create-user": cmd_create_user,
    "make-admin": cmd_make_admin,
    "status": cmd_status,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hearth`` command."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PreflightError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except admin.AdminError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
