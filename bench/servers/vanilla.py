"""Vanilla Synapse: its own generated config, patched only where a fair local run needs it."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from bench.postgres import Database
from bench.servers import limits
from bench.servers.base import ServerProcess, health_ok, tail
from devtools.processes import start_logged

SERVER_NAME = "localhost"


class VanillaServer(ServerProcess):
    """``synapse.app.homeserver`` with the config ``--generate-config`` writes."""

    name = "vanilla"

    def __init__(self, data_dir: Path, port: int, database: Database | None = None) -> None:
        super().__init__(data_dir, port, database)
        self.output_file = data_dir / "synapse.out"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "homeserver.yaml"

    def generate(self) -> None:
        """Let Synapse write its default config, then apply ``patch``."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "synapse.app.homeserver", "--server-name", SERVER_NAME,
             "--config-path", str(self.config_file), "--data-directory", str(self.data_dir),
             "--generate-config", "--report-stats=no"],
            cwd=self.data_dir, stdin=subprocess.DEVNULL, capture_output=True, check=True,
        )
        config = yaml.safe_load(self.config_file.read_text(encoding="utf-8"))
        self.config_file.write_text(yaml.safe_dump(self.patch(config), sort_keys=False),
                                    encoding="utf-8")

    def patch(self, config: dict[str, Any]) -> dict[str, Any]:
        """Loopback listener on our port, the shared rate-limit raise, a shared secret, the DB."""
        listener = config["listeners"][0]
        listener["port"] = self.port
        listener["bind_addresses"] = ["127.0.0.1"]
        config.update(limits.synapse_config())
        config.setdefault("registration_shared_secret", secrets.token_urlsafe(32))
        if self.database is not None:
            config["database"] = {
                "name": "psycopg2",
                "args": {
                    "user": self.database.user,
                    "dbname": self.database.name,
                    "host": self.database.host,
                    "port": self.database.port,
                },
            }
        return config

    def _spawn(self) -> subprocess.Popen[bytes]:
        if not self.config_file.is_file():
            self.generate()
        return start_logged(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_file)],
            self.output_file, self.data_dir)

    def _ready(self) -> bool:
        return health_ok(self.base_url)

    def output_tail(self) -> str:
        return "\n".join([tail(self.output_file), tail(self.data_dir / "homeserver.log")])
