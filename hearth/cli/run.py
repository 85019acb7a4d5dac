"""``run``: render, start the processes, say ready, supervise until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import httpx

from hearth import synapse_admin as admin
from hearth.ai_bot.config import load_config
from hearth.ai_bot.strings import ENABLE_HINT
from hearth.bot_account import BotAccount, BotAccountError, provision_bot_account
from hearth.cli.common import EXIT_FAILED, Commands, add_command, data_dir, settings_from_args
from hearth.model_endpoint import model_api_key
from hearth.preflight import preflight
from hearth.private_files import PRIVATE_UMASK
from hearth.render import Rendered, render
from hearth.structured_log import configure_logging
from hearth.supervisor import ProcessSpec, StartError, Supervisor, python_module_argv
from hearth.supervisor_metrics import serve_supervisor_metrics

logger = logging.getLogger("hearth")


def register(commands: Commands) -> None:
    """Add the subcommand."""
    run_cmd = add_command(commands, "run",
                          "render, start and supervise the homeserver until Ctrl-C", cmd_run,
                          settings_options=True)
    run_cmd.add_argument("--port", type=int, default=None, help="client port (server.port)")
    run_cmd.add_argument(
        "--admin-user", default="admin", help="name of the admin account created on first run"
    )


def process_specs(result: Rendered) -> list[ProcessSpec]:
    """The essential processes: Synapse's main process, then its workers."""
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


def _provision_bot(result: Rendered, bot_config: Path, base_url: str) -> bool:
    """The bot account and its own credential, made here with the admin's powers, so the bot
    process gets none of them (hearth/bot_account.py); False when it is not ready."""
    config = load_config(bot_config)
    saved = admin.load_admin_credentials(result.data_dir) or {}
    account = BotAccount(config.localpart, config.displayname, config.credentials_file)
    try:
        ready = provision_bot_account(base_url, account,
                                      result.secrets.read("registration_shared_secret"),
                                      saved.get("access_token"))
    except (BotAccountError, admin.AdminError, httpx.HTTPError) as exc:
        print(f"warning: the AI bot is not started, its account is not ready: {exc}",
              file=sys.stderr, flush=True)
        return False
    if ready.exempt_from_rate_limit is None:
        print(f"note: no working admin token; the settings of {ready.user_id} (bot type, "
              "rate-limit exemption) were not re-checked", flush=True)
    return True


def _start_bot(supervisor: Supervisor, result: Rendered, base_url: str) -> None:
    """The AI bot joins the supervised processes, as an optional one, when a model API key
    is configured: whatever goes wrong with it, the homeserver keeps serving."""
    if result.bot_config is None:
        return
    if not model_api_key(result.settings.ai_bot):
        print(ENABLE_HINT, flush=True)
        return
    if not _provision_bot(result, result.bot_config, base_url):
        return
    spec = ProcessSpec(
        name="ai_bot",
        argv=python_module_argv("hearth.ai_bot", "--config", str(result.bot_config)),
        log_file=result.data_dir / "logs" / "ai_bot.out",
        optional=True,
    )
    print(f"starting {spec.name} (log: {spec.log_file})", flush=True)
    supervisor.start(spec)


def cmd_run(args: argparse.Namespace) -> int:
    """Render, start everything, say ready, and supervise until Ctrl-C or SIGTERM."""
    os.umask(PRIVATE_UMASK)  # our own log and files too, not only the children's
    data = data_dir(args.data_dir)
    settings = settings_from_args(args, data)
    preflight(settings)
    result = render(settings, data)
    configure_logging(result.data_dir / "logs" / "hearth.log")
    stop_requested = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    supervisor = Supervisor(status_dir=result.data_dir)
    stop_metrics = None
    if settings.metrics.enabled:
        port = settings.metrics.supervisor_port
        try:
            stop_metrics = serve_supervisor_metrics(supervisor.snapshot, "127.0.0.1", port)
        except OSError as exc:
            raise StartError(f"cannot serve the supervisor's metrics on 127.0.0.1:{port} "
                             f"(metrics.supervisor_port): {exc}") from exc
    try:
        return _run(args, result, supervisor, lambda: stop_requested)
    finally:
        if stop_metrics is not None:
            stop_metrics()


def _run(args: argparse.Namespace, result: Rendered, supervisor: Supervisor,
         stop_requested: Callable[[], bool]) -> int:
    settings = result.settings
    base_url = f"http://127.0.0.1:{settings.server.port}"
    for spec in process_specs(result):
        print(f"starting {spec.name} (log: {spec.log_file})", flush=True)
        supervisor.start(spec)
        logger.info("started process=%s pid=%s", spec.name, supervisor.running[-1].process.pid)
        if stop_requested():
            supervisor.stop_all()
            return EXIT_FAILED
    _ensure_admin(result, base_url, args.admin_user)
    _start_bot(supervisor, result, base_url)
    print(f"ready: {base_url} (server name {settings.server.name}, profile {settings.profile})",
          flush=True)
    print(f"connect a client to {base_url}; stop with Ctrl-C", flush=True)
    supervisor.supervise(stop_requested)
    print("stopped", flush=True)
    return 0
