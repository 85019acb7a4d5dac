"""``status``: is the homeserver up, which versions it speaks, and how each supervised
process is doing (from the status file ``hearth run`` keeps in the data directory)."""

from __future__ import annotations

import argparse
import json

from hearth import synapse_admin as admin
from hearth.cli.common import EXIT_FAILED, Commands, add_command, data_dir, rendered_server
from hearth.supervisor_status import SupervisorStatus, iso_time, read_status


def register(commands: Commands) -> None:
    """Add the subcommand."""
    status_cmd = add_command(commands, "status",
                             "show whether the homeserver is up and how each process is doing",
                             cmd_status)
    status_cmd.add_argument("--json", action="store_true", help="machine-readable output")


def process_lines(supervisor: SupervisorStatus) -> list[str]:
    """One line per process, e.g. ``ai_bot (optional): restarting, 6 restarts, ...``."""
    lines = [] if supervisor.supervisor_running else [
        f"  hearth run (pid {supervisor.supervisor_pid}) is not running; "
        f"last seen {iso_time(supervisor.updated_at)}"]
    for p in supervisor.processes:
        details: list[str] = [p.state]
        if p.pid is not None:
            details.append(f"pid {p.pid}")
        details.append(f"{p.restarts} restart{'' if p.restarts == 1 else 's'}")
        if p.last_exit_code is not None:
            details.append(f"last exit status {p.last_exit_code}")
        if p.next_restart_at is not None:
            details.append(f"next attempt at {iso_time(p.next_restart_at)}")
        kind = " (optional)" if p.optional else ""
        lines.append(f"  {p.name}{kind}: {', '.join(details)}")
    return lines


def cmd_status(args: argparse.Namespace) -> int:
    """Report whether the server answers (exit 1 when it does not) and the processes."""
    data = data_dir(args.data_dir)
    config, url = rendered_server(data)
    status = admin.server_status(url)
    status["server_name"] = config.get("server_name")
    status["data_dir"] = str(data)
    supervisor = read_status(data)
    if args.json:
        status["supervisor"] = None if supervisor is None else supervisor.as_json()
        print(json.dumps(status, indent=2))
    else:
        state = "up" if status["up"] else "down"
        print(f"{status['server_name']} at {status['url']}: {state}")
        for key in ("server_version", "versions", "error"):
            if key in status:
                value = status[key]
                print(f"  {key}: {', '.join(value) if isinstance(value, list) else value}")
        if supervisor is not None:
            print("processes:")
            for line in process_lines(supervisor):
                print(line)
    return 0 if status["up"] else EXIT_FAILED
