"""A real homeserver for the tests: `hearth run` in a subprocess, from our template."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from devtools.processes import stop_process
from tests.harness.ports import free_port, free_port_block
from tests.harness.postgres import Database
from tests.harness.processes import launch

READY_TIMEOUT_S = 180
POLICY_FILE = Path(__file__).with_name("policy.yaml")

# Tests log in, register and send far faster than a person; Synapse's floor limiters are
# raised for the test server (the failed-login limit keeps its default of 5).
TEST_SETTINGS = (
    # Many servers live at once in a session (two sessions in parallel under `make test`):
    # small database pools keep them within PostgreSQL's 100 connections.
    "database.cp_min=1",
    "database.cp_max=3",
    "rate_limits.message_per_second=1000",
    "rate_limits.message_burst=10000",
    "rate_limits.registration_per_second=1000",
    "rate_limits.registration_burst=10000",
    "rate_limits.login_per_second=1000",
    "rate_limits.login_burst=10000",
    "auth.registration_enabled=true",
    "auth.registration_requires_verification=false",
    "search.user_directory_search_all_users=false",
    # Member unlimited, plus the small roles the access-policy tests need.
    f"modules.access_policy_file={POLICY_FILE}",
    # login_security: 127.0.0.1 acts as the trusted proxy in the address tests; loopback's
    # own failures never block the address every test uses; admins must enrol (7-day grace);
    # address rules that loopback logins of the other tests satisfy.
    "server.trusted_proxies=[127.0.0.1]",
    "login_security.address_failure_limit=6",
    "login_security.address_exempt_ranges=[127.0.0.0/8, '::1/128']",
    "login_security.mfa_required_roles=[admin]",
    'login_security.ip_rules={"admin": {"allow": ["127.0.0.1/32", "::1/128", "10.0.0.0/8"], '
    '"deny": ["10.66.0.0/16"]}, "member": {"deny": ["192.0.2.0/24"]}}',
)


@dataclass
class Homeserver:
    """One running `hearth run` and what a test needs to talk to it."""

    name: str
    data_dir: Path
    port: int
    metrics_port: int
    settings: tuple[str, ...]
    profile: str = "dev"
    engine: str = "sqlite"
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)
    # `hearth run`'s own metrics (hearth_process_*), on a port of its own per server.
    supervisor_metrics_port: int = field(default_factory=free_port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/_synapse/metrics"

    @property
    def supervisor_metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.supervisor_metrics_port}/metrics"

    @property
    def server_name(self) -> str:
        return "localhost"

    @property
    def shared_secret(self) -> str:
        return (self.data_dir / "secrets" / "registration_shared_secret").read_text().strip()

    @property
    def admin(self) -> dict[str, str]:
        loaded: dict[str, str] = json.loads((self.data_dir / "admin-credentials.json").read_text())
        return loaded

    def command(self) -> list[str]:
        argv = [sys.executable, "-m", "hearth.cli", "run", "--profile", self.profile,
                "--data-dir", str(self.data_dir),
                "--port", str(self.port), "--set", f"metrics.port={self.metrics_port}",
                "--set", f"metrics.supervisor_port={self.supervisor_metrics_port}"]
        for assignment in self.settings:
            argv += ["--set", assignment]
        return argv

    def start(self) -> None:
        self.output = []
        self.process, ready = launch(self.command(), "ready:", self.output, READY_TIMEOUT_S)
        if not ready:
            self.stop()
            log = self.data_dir / "logs" / "synapse.out"
            raise RuntimeError(
                f"{self.name} did not start:\n" + "\n".join(self.output[-30:])
                + (f"\n--- {log}\n" + log.read_text()[-3000:] if log.exists() else "")
            )

    def stop(self) -> None:
        if self.process is None:
            return
        stop_process(self.process, 60, signal.SIGINT)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def make_homeserver(
    name: str, data_dir: Path, smtp_port: int, database: Database | None,
    extra: tuple[str, ...] = (),
) -> Homeserver:
    """A homeserver on fresh ports, SQLite unless ``database`` is given."""
    settings = [*TEST_SETTINGS, f"email.smtp_port={smtp_port}", "email.enable_tls=false"]
    if database is not None:
        settings += [
            "database.engine=postgres",
            f"database.host={database.host}",
            f"database.port={database.port}",
            f"database.user={database.user}",
            f"database.name={database.name}",
        ]
    return Homeserver(
        name=name, data_dir=data_dir, port=free_port(), metrics_port=free_port(),
        settings=(*settings, *extra), engine="sqlite" if database is None else "postgres",
    )


@dataclass(frozen=True)
class WorkerCluster:
    """A production-profile main process with one event persister and one generic worker."""

    server: Homeserver
    base_port: int

    @property
    def generic_url(self) -> str:
        return f"http://127.0.0.1:{self.base_port + 2}"  # after the persister's two ports

    @property
    def generic_metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.server.metrics_port + 2}/_synapse/metrics"


def make_worker_cluster(data_dir: Path, smtp_port: int, database: Database,
                        redis: tuple[str, int], clamd_socket: Path) -> WorkerCluster:
    """The production profile on PostgreSQL and Redis, with the test access policy, scanning
    uploads with the session's clamd."""
    port, base_port = free_port(), free_port_block(10)
    server = Homeserver(
        name="production-workers", data_dir=data_dir, port=port, metrics_port=base_port + 6,
        profile="production", engine="postgres",
        settings=(
            "server.name=localhost", f"server.public_baseurl=http://127.0.0.1:{port}/",
            f"database.user={database.user}", f"database.name={database.name}",
            f"database.host={database.host}", f"database.port={database.port}",
            "database.cp_min=1", "database.cp_max=4",
            f"redis.host={redis[0]}", f"redis.port={redis[1]}",
            f"email.smtp_port={smtp_port}", "email.require_transport_security=false",
            "workers.generic_workers=1", "workers.event_persisters=1",
            "workers.federation_senders=0", "workers.media_workers=0",
            f"workers.base_port={base_port}", f"workers.replication_port={base_port + 5}",
            "rate_limits.message_per_second=100", "rate_limits.message_burst=100",
            f"modules.access_policy_file={POLICY_FILE}",
            f"media.scan.clamd={clamd_socket}",
        ),
    )
    return WorkerCluster(server, base_port)
