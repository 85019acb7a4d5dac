"""Synapse's per-user rate-limit override, as admins set it with
``POST /_synapse/admin/v1/users/<user_id>/override_ratelimit``.

Read through Synapse's own store method ``get_ratelimit_for_user`` (``ratelimit_override``
table): it is cached per process and Synapse invalidates that cache on every process (its
cache-invalidation replication stream) when the admin API sets or deletes the override, so no
copy of ours can go stale on a worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from synapse.module_api import ModuleApi


@dataclass(frozen=True)
class RateLimitOverride:
    """A user's override: 0 messages per second means "no rate limit at all" (Synapse's rule)."""

    messages_per_second: float
    burst_count: int

    @property
    def exempt(self) -> bool:
        return not self.messages_per_second


def override_reader(api: ModuleApi) -> Callable[[str], Awaitable[RateLimitOverride | None]]:
    """``read(user_id)``: the user's override, or None when the admin set none."""
    store: Any = api._store  # the registry entry "ratelimit_override"

    async def read(user_id: str) -> RateLimitOverride | None:
        row = await store.get_ratelimit_for_user(user_id)
        if row is None:
            return None
        return RateLimitOverride(float(row.messages_per_second or 0), int(row.burst_count or 0))

    return read
