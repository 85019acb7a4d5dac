"""Token buckets: the arithmetic, the in-process store, the Redis script and the fallback."""

from __future__ import annotations

import subprocess
import time
import uuid
from typing import Any

from twisted.internet import defer

from hearth.synapse_modules.access_policy.policy import RateLimit
from hearth.synapse_modules.access_policy.ratelimit import (
    BUCKET_SCRIPT,
    LocalBuckets,
    RateLimiter,
    RedisBuckets,
    take,
)
from tests.harness.redis import REDIS, require_redis

LIMIT = RateLimit(per_second=2.0, burst=3)


def test_take_spends_burst_then_refuses_with_retry_after() -> None:
    """Three at once, the fourth waits 500 ms at 2/s; refusals spend nothing."""
    bucket = None
    for _ in range(3):
        bucket, verdict = take(bucket, 1000, LIMIT)
        assert verdict.allowed
    bucket, verdict = take(bucket, 1000, LIMIT)
    assert (verdict.allowed, verdict.retry_after_ms) == (False, 500)
    bucket, verdict = take(bucket, 1250, LIMIT)
    assert (verdict.allowed, verdict.retry_after_ms) == (False, 250)
    bucket, verdict = take(bucket, 1500, LIMIT)
    assert verdict.allowed
    _, verdict = take(bucket, 100_000, LIMIT)
    assert verdict.allowed  # refilled, capped at burst


def test_local_buckets_are_per_key_and_recover() -> None:
    """Keys are independent; after the wait the same key is allowed again."""
    now = [0]
    buckets = LocalBuckets(clock_ms=lambda: now[0])
    assert all(buckets.check("a", LIMIT).allowed for _ in range(3))
    refused = buckets.check("a", LIMIT)
    assert not refused.allowed and buckets.check("b", LIMIT).allowed
    now[0] += refused.retry_after_ms
    assert buckets.check("a", LIMIT).allowed


async def _yield(deferred: Any) -> Any:
    return await deferred


class FailingRedis:
    def eval(self, script: str, keys: list[str], args: list[Any]) -> Any:
        return defer.fail(ConnectionError("redis is down"))


class CannedRedis:
    def __init__(self, reply: list[int]) -> None:
        self.reply = reply
        self.calls: list[tuple[list[str], list[Any]]] = []

    def eval(self, script: str, keys: list[str], args: list[Any]) -> Any:
        self.calls.append((keys, args))
        return defer.succeed(self.reply)


async def test_rate_limiter_uses_redis_and_falls_back_to_local_on_error() -> None:
    """A Redis verdict is used as is; a Redis failure counts in-process instead of failing."""
    canned = CannedRedis([0, 420])
    limiter = RateLimiter(RedisBuckets(canned, _yield))
    verdict = await limiter.check("messages", "@a:hs", LIMIT)
    assert (verdict.allowed, verdict.retry_after_ms) == (False, 420)
    assert canned.calls == [(["hearth:policy:rl:messages:@a:hs"], [2.0, 3, 1.0])]
    fallback = RateLimiter(RedisBuckets(FailingRedis(), _yield))
    assert [(await fallback.check("joins", "@a:hs", LIMIT)).allowed for _ in range(4)] == [
        True, True, True, False]


def _redis_cli() -> list[str]:
    require_redis(cli=True)
    return ["redis-cli", "-h", REDIS[0], "-p", str(REDIS[1])]


def test_redis_script_matches_the_bucket_arithmetic() -> None:
    """The Lua script on a real Redis: burst, refusal with retry-after, recovery, expiry.

    Redis keeps the time, so nothing here may depend on how fast the calls come: the burst is
    checked at one token per 100 s (no refill between calls), recovery by waiting what the
    script asks for."""
    cli = _redis_cli()

    def run(key: str, per_second: float, burst: int) -> tuple[int, int]:
        out = subprocess.run([*cli, "EVAL", BUCKET_SCRIPT, "1", key, str(per_second),
                              str(burst), "1"],
                             capture_output=True, text=True, check=True).stdout.split()
        return int(out[0]), int(out[1])

    slow = f"hearth:test:{uuid.uuid4()}"
    verdicts = [run(slow, 0.01, 3) for _ in range(5)]
    assert [allowed for allowed, _ in verdicts] == [1, 1, 1, 0, 0]
    assert all(0 < retry <= 100_000 for _, retry in verdicts[3:])

    fast = f"hearth:test:{uuid.uuid4()}"
    assert run(fast, 2, 3)[0] == 1
    refused = next(retry for allowed, retry in (run(fast, 2, 3) for _ in range(50))
                   if not allowed)  # drained, however slowly the calls come
    assert 0 < refused <= 500
    time.sleep(refused / 1000)  # the wait the script asked for, then a token is there
    assert run(fast, 2, 3)[0] == 1
    ttl = subprocess.run([*cli, "PTTL", fast], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert 0 < int(ttl) <= 2500
