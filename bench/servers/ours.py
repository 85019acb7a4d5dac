"""Our configured Synapse: ``hearth run`` on the dev profile, as a user would start it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.postgres import Database
from bench.servers import limits
from bench.servers.base import ServerProcess, tail
from devtools.processes import printed_line, start_logged
from hearth.render import PROJECT_DIR


class OursServer(ServerProcess):
    """``python -m hearth.cli run`` with raised rate limits; ready when it prints ``ready:``."""

    name = "ours"

    def __init__(self, data_dir: Path, port: int, metrics_port: int,
                 database: Database | None = None) -> None:
        super().__init__(data_dir, port, database)
        self.metrics_port = metrics_port
        self.output_file = data_dir / "hearth-run.out"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "homeserver.yaml"

    def command(self, policy: Path | None) -> list[str]:
        """The ``hearth run`` command line, with the raised access policy if there is one."""
        assignments = [f"metrics.port={self.metrics_port}", *limits.hearth_assignments()]
        if policy is not None:
            assignments.append(f"modules.access_policy_file={policy}")
        if self.database is not None:
            assignments += [
                "database.engine=postgres",
                f"database.host={self.database.host}",
                f"database.port={self.database.port}",
                f"database.user={self.database.user}",
                f"database.name={self.database.name}",
            ]
        argv = [sys.executable, "-m", "hearth.cli", "run", "--data-dir", str(self.data_dir),
                "--port", str(self.port)]
        for assignment in assignments:
            argv += ["--set", assignment]
        return argv

    def environment(self) -> dict[str, str] | None:
        """The environment of ``hearth run`` (None: this process's own)."""
        return None

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        policy = limits.write_raised_policy(self.data_dir / "bench-policy.yaml")
        return start_logged(self.command(policy), self.output_file, PROJECT_DIR,
                            self.environment())

    def _ready(self) -> bool:
        return printed_line(self.output_file, "ready:")

    def output_tail(self) -> str:
        return "\n".join(
            [tail(self.output_file), tail(self.data_dir / "logs" / "synapse.out")]
        )
