"""Redis, when enabled: it answers PING (with the password when one is set)."""

from __future__ import annotations

import socket

from hearth.doctor.findings import Finding, ok, problem
from hearth.settings import RedisSettings

CHECK = "redis"


def _command(*parts: str) -> bytes:
    encoded = [part.encode() for part in parts]
    return b"*%d\r\n" % len(encoded) + b"".join(
        b"$%d\r\n%s\r\n" % (len(part), part) for part in encoded)


def check_redis(settings: RedisSettings, timeout_s: float = 5.0) -> Finding:
    """PING over Redis's own protocol (no client library needed for one command)."""
    if not settings.enabled:
        return ok(CHECK, "not enabled (only workers need it)")
    where = f"Redis at {settings.host}:{settings.port}"
    try:
        with socket.create_connection((settings.host, settings.port), timeout=timeout_s) as sock:
            if settings.password:
                sock.sendall(_command("AUTH", settings.password))
                answer = sock.recv(512)
                if not answer.startswith(b"+OK"):
                    return problem(CHECK, f"{where} refused the password: "
                                          f"{answer.decode(errors='replace').strip()}",
                                   "set redis.password to Redis's requirepass")
            sock.sendall(_command("PING"))
            answer = sock.recv(512)
    except OSError as exc:
        return problem(CHECK, f"{where} is not reachable: {exc}",
                       "start Redis (systemctl start redis-server), or set redis.host and "
                       "redis.port")
    if not answer.startswith(b"+PONG"):
        return problem(CHECK, f"{where} answered PING with "
                              f"{answer.decode(errors='replace').strip()!r}",
                       "check redis.password and that the port is Redis's")
    return ok(CHECK, f"{where} answers PING")
