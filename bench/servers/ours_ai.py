"""Our Synapse with the AI bot: ``hearth run`` with a model API key set, so it starts the bot
as a supervised child, pointed at the fake OpenAI-compatible server."""

from __future__ import annotations

import os
from pathlib import Path

from bench import procs
from bench.postgres import Database
from bench.servers.base import tail
from bench.servers.ours import OursServer


class OursWithBot(OursServer):
    """``OursServer`` plus ``OPENAI_API_KEY``/``OPENAI_BASE_URL`` and the bot's settings."""

    name = "ours+ai_bot"

    def __init__(self, data_dir: Path, port: int, metrics_port: int, bot_metrics_port: int,
                 model_url: str, model: str, database: Database | None = None) -> None:
        super().__init__(data_dir, port, metrics_port, database)
        self.bot_metrics_port = bot_metrics_port
        self.model_url = model_url
        self.model = model

    def command(self, policy: Path | None) -> list[str]:
        argv = super().command(policy)
        for assignment in (f"ai_bot.base_url={self.model_url}",
                           f"ai_bot.metrics_port={self.bot_metrics_port}",
                           f"ai_bot.default_model={self.model}"):
            argv += ["--set", assignment]
        return argv

    def environment(self) -> dict[str, str]:
        """A model API key, so ``hearth run`` starts the bot, and the fake model's URL."""
        return {**os.environ, "OPENAI_API_KEY": "dummy", "OPENAI_BASE_URL": self.model_url}

    def bot_pid(self) -> int | None:
        """The pid of the supervised ``python -m ai_bot`` child, or None."""
        if self.pid is None:
            return None
        for proc in procs.tree([self.pid]):
            try:
                cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"ai_bot" in cmdline and b"-m" in cmdline:
                return proc.pid
        return None

    def output_tail(self) -> str:
        return "\n".join([super().output_tail(), tail(self.data_dir / "logs" / "ai_bot.out")])
