"""Redis on loopback for the tests that need it (worker replication, shared rate limits)."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

from tests.harness.postgres import postgres_required

REDIS = (os.environ.get("TEST_REDIS_HOST", "127.0.0.1"),
         int(os.environ.get("TEST_REDIS_PORT", "6379")))


def require_redis(*, cli: bool = False) -> None:
    """Skip without Redis (or redis-cli) locally; in CI (REQUIRE_POSTGRES=1) fail instead."""
    problem = None
    if cli and shutil.which("redis-cli") is None:
        problem = "redis-cli is not installed (Debian package redis-tools)"
    else:
        try:
            socket.create_connection(REDIS, timeout=2).close()
        except OSError as exc:
            problem = f"Redis at {REDIS[0]}:{REDIS[1]} is unavailable: {exc}"
    if problem is None:
        return
    if postgres_required():
        pytest.fail(f"{problem}; it is required in CI")
    pytest.skip(problem)
