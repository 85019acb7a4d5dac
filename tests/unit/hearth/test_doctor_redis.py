"""`hearth doctor`, Redis: PING when enabled (the real local Redis, and a closed port)."""

from __future__ import annotations

from hearth.doctor.redis import check_redis
from hearth.settings import RedisSettings
from tests.harness.ports import free_port
from tests.harness.redis import REDIS, require_redis


def test_redis_answering_ping_is_ok() -> None:
    """The local Redis answers PONG."""
    require_redis()
    finding = check_redis(RedisSettings(enabled=True, host=REDIS[0], port=REDIS[1]))
    assert finding.level == "ok"
    assert finding.what == f"Redis at {REDIS[0]}:{REDIS[1]} answers PING"


def test_redis_closed_port_is_a_problem() -> None:
    """Nothing listening: a problem that says how to start Redis or where to point."""
    port = free_port()
    finding = check_redis(RedisSettings(enabled=True, port=port))
    assert finding.level == "problem"
    assert f"Redis at 127.0.0.1:{port} is not reachable" in finding.what
    assert "redis.host and redis.port" in finding.fix


def test_redis_disabled_is_not_checked() -> None:
    """Without workers Redis is not used, so a closed port does not matter."""
    finding = check_redis(RedisSettings(enabled=False, port=free_port()))
    assert finding.level == "ok"
    assert "not enabled" in finding.what
