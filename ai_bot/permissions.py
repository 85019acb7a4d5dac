"""What a user's role allows with the AI: use it at all, which models, budgets, request rate.

One policy, many enforcers (principle 2): roles and their AI permissions live in the access
policy (``synapse_modules/access_policy``). The bot asks the homeserver for a user's effective
role and permissions through the access policy's admin API
(``GET /_synapse/client/hearth/v1/admin/roles/users/<user_id>``, with the admin token) and
caches the answer briefly. Only when that API is not there (module disabled, no admin token)
does it fall back to the bot config's ``access.roles`` and ``access.assignments``, which have
the same shape. Spend limits in dollars per role come from ``access.budgets_usd``; the
policy's ``daily_token_budget`` is enforced on settled spend (see ``answer``).
"""

from __future__ import annotations

import fnmatch
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hearth.ai_bot.config import AccessConfig

logger = logging.getLogger(__name__)

CACHE_S = 30.0
RoleLookup = Callable[[str], Awaitable[Mapping[str, Any] | None]]


@dataclass(frozen=True)
class AiAccess:
    """The AI permissions of one user."""

    role: str
    use_ai: bool
    models: tuple[str, ...]
    daily_usd: float | None = None
    monthly_usd: float | None = None
    daily_token_budget: int | None = None
    rate: tuple[float, int] | None = None  # AI requests: per second, burst

    def may_use_model(self, model: str) -> bool:
        return self.use_ai and any(fnmatch.fnmatchcase(model, p) for p in self.models)

    def allowed(self, catalogue: Iterable[str]) -> list[str]:
        return [m for m in catalogue if self.may_use_model(m)]


def access_from_policy(found: Mapping[str, Any], config: AccessConfig) -> AiAccess:
    """The access policy's effective-permissions answer → ``AiAccess``."""
    role = str(found.get("role", ""))
    ai = (found.get("permissions") or {}).get("ai") or {}
    limit = (found.get("rate_limits") or {}).get("ai_requests")
    usd = config.budgets_usd.get(role)
    budget = ai.get("daily_token_budget")
    return AiAccess(
        role=role, use_ai=bool(ai.get("enabled", False)),
        models=tuple(str(m) for m in ai.get("models", ())),
        daily_usd=usd.daily_usd if usd else None, monthly_usd=usd.monthly_usd if usd else None,
        daily_token_budget=int(budget) if budget is not None else None,
        rate=(float(limit["per_second"]), int(limit["burst"])) if limit else None,
    )


class AccessPolicy:
    """Looks up a user's role and its AI permissions."""

    def __init__(self, config: AccessConfig, lookup: RoleLookup | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.lookup = lookup
        self.clock = clock
        self._cache: dict[str, tuple[float, AiAccess]] = {}

    def from_config(self, user_id: str) -> AiAccess:
        role = self.config.default_role
        for pattern, assigned in self.config.assignments.items():
            if fnmatch.fnmatchcase(user_id, pattern):
                role = assigned
                break
        settings = self.config.roles[role]
        usd = self.config.budgets_usd.get(role)
        rpm = settings.requests_per_minute
        return AiAccess(
            role=role, use_ai=settings.use_ai, models=settings.models,
            daily_usd=usd.daily_usd if usd else None, monthly_usd=usd.monthly_usd if usd else None,
            daily_token_budget=settings.daily_token_budget,
            rate=None if rpm is None else (rpm / 60, rpm),
        )

    async def access(self, user_id: str) -> AiAccess:
        now = self.clock()
        cached = self._cache.get(user_id)
        if cached is not None and now - cached[0] < CACHE_S:
            return cached[1]
        found: Mapping[str, Any] | None = None
        if self.lookup is not None:
            try:
                found = await self.lookup(user_id)
            except Exception as exc:
                logger.warning("access policy lookup for %s failed (%s); using the bot config",
                               user_id, exc)
        result = access_from_policy(found, self.config) if found else self.from_config(user_id)
        self._cache[user_id] = (now, result)
        return result


POLICY_API = "/_synapse/client/hearth/v1/admin/roles/users/"


def admin_api_lookup(base_url: str, admin_token: Callable[[], str | None]) -> RoleLookup:
    """Asks the access policy's admin API for a user's effective role (None when absent)."""
    from urllib.parse import quote

    import httpx

    async def lookup(user_id: str) -> Mapping[str, Any] | None:
        token = admin_token()
        if token is None:
            return None
        async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as http:
            response = await http.get(POLICY_API + quote(user_id, safe=""),
                                      headers={"Authorization": f"Bearer {token}"})
        if response.status_code == 404:
            return None  # module not installed, or not a local user: the fallback applies
        response.raise_for_status()
        found: Mapping[str, Any] = response.json()
        return found

    return lookup


class RequestRate:
    """A token bucket of AI requests per user (the bot is one process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # user → (tokens, at)

    def check(self, user_id: str, rate: tuple[float, int] | None) -> float:
        """0 when the request may go ahead (and is counted), else seconds to wait."""
        if rate is None:
            return 0.0
        per_second, burst = rate
        now = self.clock()
        tokens, at = self._buckets.get(user_id, (float(burst), now))
        tokens = min(float(burst), tokens + (now - at) * per_second)
        if tokens < 1:
            self._buckets[user_id] = (tokens, now)
            return (1 - tokens) / per_second
        self._buckets[user_id] = (tokens - 1, now)
        return 0.0
