"""``hearth``: render the configuration, run the homeserver, manage users, show status, and
diagnose a deployment. One module per job: ``main`` (the parser), ``config_commands``,
``run``, ``users``, ``status``, ``doctor``; ``common`` holds what they share."""

from __future__ import annotations

from hearth.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
