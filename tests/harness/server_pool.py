"""Homeservers shared across test files: one start per distinct engine and settings.

Starting Synapse costs seconds to a minute on a loaded machine; tests that only need other
settings (not a server of their own to stop or restart) ask the pool, and every test file
asking for the same settings gets the same running server.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from tests.harness.postgres import database_for, require_postgres_or_skip, temporary_database
from tests.harness.redis import REDIS, require_redis
from tests.harness.server import Homeserver, WorkerCluster, make_homeserver, make_worker_cluster

# Servers with extra settings kept running at once (the default one per engine always is).
MAX_EXTRA = 3


class ServerPool:
    """Started servers by (engine, extra settings); all stopped by ``close`` at session end."""

    def __init__(self, smtp_port: int, make_dir: Callable[[str], Path],
                 clamd_socket: Path) -> None:
        self._smtp_port = smtp_port
        self._clamd_socket = clamd_socket
        self._make_dir = make_dir
        self._servers: dict[tuple[str, tuple[str, ...]], Homeserver] = {}
        self._cluster: WorkerCluster | None = None
        self._stack = ExitStack()

    def get(self, engine: str, extra: tuple[str, ...] = ()) -> Homeserver:
        """A running dev-profile homeserver on ``engine`` ("sqlite" or "postgres") with the
        test settings plus ``extra``; PostgreSQL cases skip (or fail in CI) without it."""
        key = (engine, extra)
        if key in self._servers:
            self._servers[key] = self._servers.pop(key)  # most recently used last
        else:
            self._make_room()
            database = self._stack.enter_context(database_for(engine))
            server = make_homeserver("+".join((engine, *extra)), self._make_dir(f"hs-{engine}"),
                                     self._smtp_port, database, extra)
            self._started(server)
            self._servers[key] = server
        return self._servers[key]

    def _make_room(self) -> None:
        """Stop the least recently used server with extra settings beyond ``MAX_EXTRA``.

        Every idle Synapse still wakes up (background jobs, the modules' polls): dozens of
        them alive at once slow the whole suite on a small machine. Tests of one settings set
        sit together in one file, so a stopped one is rarely asked for again (and then starts
        afresh)."""
        extras = [key for key in self._servers if key[1]]
        while len(extras) >= MAX_EXTRA:
            oldest = extras.pop(0)
            self._servers.pop(oldest).stop()

    def workers(self) -> WorkerCluster:
        """The production profile with workers, on PostgreSQL and Redis (both required)."""
        if self._cluster is None:
            require_postgres_or_skip()
            require_redis()
            database = self._stack.enter_context(temporary_database("hearth_workers"))
            cluster = make_worker_cluster(self._make_dir("hs-workers"), self._smtp_port,
                                          database, REDIS, self._clamd_socket)
            self._started(cluster.server)
            self._cluster = cluster
        return self._cluster

    def _started(self, server: Homeserver) -> None:
        server.start()
        self._stack.callback(server.stop)

    def close(self) -> None:
        """Stop every server (newest first), then drop their databases."""
        self._stack.close()
