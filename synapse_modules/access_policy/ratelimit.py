"""Per-role rate limits as token buckets, shared across processes through Redis when configured.

``take`` is the bucket arithmetic (pure, unit-tested); ``BUCKET_SCRIPT`` is the same
arithmetic as a Redis Lua script so that one atomic call checks and spends a token for every
Synapse process at once, on Redis's clock. Without Redis there is only one Synapse process
(workers require Redis), so in-process buckets are exact. If Redis fails mid-flight, the
limiter falls back to in-process buckets for that call and logs it: Synapse's own limiters
remain the floor, so an outage of Redis degrades sharing, not safety.

No Synapse imports: the caller passes ``yieldable`` (Synapse's ``make_deferred_yieldable``)
so Redis deferreds follow Synapse's logging-context rules.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hearth.synapse_modules.access_policy.policy import RateLimit

logger = logging.getLogger(__name__)

KEY_PREFIX = "hearth:policy:rl"
MAX_LOCAL_BUCKETS = 100_000


@dataclass(frozen=True)
class Bucket:
    """Tokens left and when they were counted (milliseconds)."""

    tokens: float
    updated_ms: int


@dataclass(frozen=True)
class Verdict:
    """Whether the action may go ahead, and if not, how long until it may."""

    allowed: bool
    retry_after_ms: int = 0


def take(bucket: Bucket | None, now_ms: int, limit: RateLimit, cost: float = 1.0
         ) -> tuple[Bucket, Verdict]:
    """Refill ``bucket`` up to now and spend ``cost`` if there is enough; refusals cost nothing."""
    if bucket is None:
        tokens = float(limit.burst)
    else:
        elapsed = max(0, now_ms - bucket.updated_ms)
        tokens = min(float(limit.burst), bucket.tokens + elapsed * limit.per_second / 1000.0)
    if tokens >= cost:
        return Bucket(tokens - cost, now_ms), Verdict(True)
    wait_ms = math.ceil((cost - tokens) * 1000.0 / limit.per_second)
    return Bucket(tokens, now_ms), Verdict(False, max(1, wait_ms))


# KEYS[1]: the bucket; ARGV: per_second, burst, cost. Same arithmetic as ``take``, using
# Redis's clock so every process agrees. Returns {allowed (0/1), retry_after_ms}.
BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
else
  local elapsed = now - ts
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(burst, tokens + elapsed * rate / 1000)
end
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = math.ceil((cost - tokens) * 1000 / rate)
  if retry < 1 then retry = 1 end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, retry}
"""


class LocalBuckets:
    """Buckets in this process's memory: exact when there is a single Synapse process."""

    def __init__(self, clock_ms: Callable[[], int] | None = None) -> None:
        self._buckets: dict[str, Bucket] = {}
        self._clock_ms = clock_ms or (lambda: int(time.monotonic() * 1000))

    def check(self, key: str, limit: RateLimit, cost: float = 1.0) -> Verdict:
        now = self._clock_ms()
        if len(self._buckets) >= MAX_LOCAL_BUCKETS:
            self._prune(now, limit)
        bucket, verdict = take(self._buckets.get(key), now, limit, cost)
        self._buckets[key] = bucket
        return verdict

    def _prune(self, now_ms: int, limit: RateLimit) -> None:
        """Drop buckets idle long enough to be full again (or, failing that, all of them)."""
        idle_ms = math.ceil(limit.burst * 1000 / limit.per_second)
        self._buckets = {k: b for k, b in self._buckets.items() if now_ms - b.updated_ms < idle_ms}
        if len(self._buckets) >= MAX_LOCAL_BUCKETS:
            self._buckets.clear()


class RedisClient(Protocol):
    """The part of txredisapi's connection handler this module uses."""

    def eval(self, script: str, keys: list[str], args: list[Any]) -> Any: ...


class RedisBuckets:
    """Buckets in Redis, one atomic Lua call per check, shared by every Synapse process."""

    def __init__(self, client: RedisClient, yieldable: Callable[[Any], Awaitable[Any]],
                 timeout_s: float = 2.0) -> None:
        self._client = client
        self._yieldable = yieldable
        self._timeout_s = timeout_s

    async def check(self, key: str, limit: RateLimit, cost: float = 1.0) -> Verdict:
        from twisted.internet import reactor

        pending = self._client.eval(BUCKET_SCRIPT, [key], [limit.per_second, limit.burst, cost])
        pending.addTimeout(self._timeout_s, reactor)  # a lazy pool waits forever otherwise
        result = await self._yieldable(pending)
        allowed, retry = int(result[0]), int(result[1])
        return Verdict(allowed == 1, 0 if allowed == 1 else retry)


class RateLimiter:
    """Checks one of the policy's limiters for a user; Redis when given, else in-process."""

    def __init__(self, redis: RedisBuckets | None, local: LocalBuckets | None = None) -> None:
        self._redis = redis
        self._local = local or LocalBuckets()

    @property
    def shared(self) -> bool:
        return self._redis is not None

    async def check(self, limiter: str, user_id: str, limit: RateLimit) -> Verdict:
        key = f"{KEY_PREFIX}:{limiter}:{user_id}"
        if self._redis is not None:
            try:
                return await self._redis.check(key, limit)
            except Exception:
                logger.warning("access_policy: Redis rate-limit check failed; counting in "
                               "this process only", exc_info=True)
        return self._local.check(key, limit)


def connect_redis(host: str, port: int, dbid: int, password: str | None) -> RedisClient:
    """A lazy txredisapi connection pool (non-blocking, on Twisted's reactor)."""
    import txredisapi  # type: ignore[import-untyped]

    client: RedisClient = txredisapi.lazyConnectionPool(
        host=host, port=port, dbid=dbid, password=password or None, poolsize=4,
        connectTimeout=2, replyTimeout=2,
    )
    return client
