"""Checks made before anything starts, so a failure leaves nothing half-started."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from hearth.render import plan_workers
from hearth.settings import Settings
from hearth.supervisor import port_in_use


class PreflightError(RuntimeError):
    """Something the deployment needs is missing; the message says what and how to fix it."""


# Commands a feature needs on the machine, with the Debian package that provides them.
# Filled in as features that use them land (ffmpeg for video, clamd for scanning).
REQUIRED_COMMANDS: dict[str, str] = {}


def _reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ports_needed(settings: Settings) -> list[tuple[str, int, str]]:
    """Every (host, port, what) the deployment will listen on."""
    ports = [(settings.server.bind_address, settings.server.port, "server.port")]
    if settings.metrics.enabled:
        ports.append((settings.metrics.bind_address, settings.metrics.port, "metrics.port"))
    if settings.has_workers:
        ports.append(("127.0.0.1", settings.workers.replication_port, "workers.replication_port"))
        for worker in plan_workers(settings, Path(".")):
            for worker_port in (worker.port, worker.replication_port):
                if worker_port:
                    ports.append(("127.0.0.1", worker_port, "workers.base_port"))
            if worker.metrics_port:
                ports.append(("127.0.0.1", worker.metrics_port, "metrics.port"))
    return ports


def preflight(settings: Settings, required: dict[str, str] | None = None) -> None:
    """Refuse to start when a port is taken, a command is missing or a service is down."""
    for host, port, what in ports_needed(settings):
        if port_in_use(host, port):
            raise PreflightError(
                f"port {port} on {host} ({what}) is already in use; stop what uses it or "
                f"choose another port (make run PORT=... or --set {what}=...)"
            )
    for command, package in (REQUIRED_COMMANDS if required is None else required).items():
        if shutil.which(command) is None:
            raise PreflightError(
                f"the command '{command}' is missing; install the system package "
                f"'{package}' (apt-get install {package})"
            )
    if settings.database.engine == "postgres" and not _reachable(
        settings.database.host, settings.database.port
    ):
        raise PreflightError(
            f"PostgreSQL is not reachable at {settings.database.host}:{settings.database.port} "
            "(database.host / database.port)"
        )
    if settings.redis.enabled and not _reachable(settings.redis.host, settings.redis.port):
        raise PreflightError(
            f"Redis is not reachable at {settings.redis.host}:{settings.redis.port} "
            "(redis.host / redis.port)"
        )
