"""Checks made before anything starts, so a failure leaves nothing half-started."""

from __future__ import annotations

import shutil
import socket

from hearth.media_repo.scanner import ClamdScanner
from hearth.model_endpoint import model_api_key
from hearth.render import BOT_METRICS_PORT, ports_needed
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


def preflight(settings: Settings, required: dict[str, str] | None = None) -> None:
    """Refuse to start when a port is taken, a command is missing or a service is down."""
    bot_starts = settings.ai_bot.enabled and bool(model_api_key(settings.ai_bot))
    for host, port, what in ports_needed(settings):
        if what == BOT_METRICS_PORT and not bot_starts:
            continue  # `hearth run` starts the bot only with a model API key
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
    _media_checks(settings)
    if settings.redis.enabled and not _reachable(settings.redis.host, settings.redis.port):
        raise PreflightError(
            f"Redis is not reachable at {settings.redis.host}:{settings.redis.port} "
            "(redis.host / redis.port)"
        )


def _media_checks(settings: Settings) -> None:
    """The media pipeline's tools: ffprobe/ffmpeg, and clamd when uploads must be scanned."""
    media = settings.media
    if not media.processing:
        return
    for command in ("ffprobe", "ffmpeg"):
        if shutil.which(command) is None:
            raise PreflightError(
                f"the command '{command}' is missing and media.processing is on (video and "
                "audio uploads are probed with it); install the system package 'ffmpeg' "
                "(apt-get install ffmpeg)")
    scan = media.scan
    if scan.enabled and scan.on_unavailable == "refuse" and not ClamdScanner(
            scan.clamd, 3.0).ping():
        raise PreflightError(
            f"clamd does not answer at {scan.clamd} (media.scan.clamd) and uploads must be "
            "scanned, so every upload would be refused: start it (apt-get install "
            "clamav-daemon; systemctl start clamav-daemon), point media.scan.clamd at it, or "
            "set media.scan.enabled=false")
