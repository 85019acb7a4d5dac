"""What a user's role allows with the AI: use it at all, which models, budgets, request rate.

One policy, many enforcers (principle 2): roles and their AI permissions — models, the daily
token budget, the daily and monthly dollar budgets, the AI request rate — live only in the
access policy (``config/policy.yaml`` and the role assignments in the database). The bot keeps
no rules of its own: for every prompt, command, 🔁 and invite it asks the access policy's AI
access API (``GET /_synapse/client/hearth/v1/ai/access/<user_id>``) with its own bot-account
token, so a role change applies to the next request.

Fail closed: when the answer cannot be had — the homeserver unreachable or slow, a 5xx, the
token refused even after renewal, the module not installed, an answer of the wrong shape — the
lookup raises ``RoleUnknown`` and the bot refuses (``strings.ROLE_UNKNOWN``); it never guesses
a role. Only the policy's definite "no such local user" (404 ``M_NOT_FOUND``, 400 for a user of
another server) means "no AI".
"""

from __future__ import annotations

import fnmatch
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from hearth.ai_bot.metrics import ROLE_LOOKUP_FAILURES

logger = logging.getLogger(__name__)

AI_ACCESS_PATH = "/_synapse/client/hearth/v1/ai/access/"
LOOKUP_TIMEOUT_S = 10.0


class RoleUnknown(Exception):
    """The access policy could not say what a user may do; ``kind`` says why (a metric label:
    unreachable, timeout, unauthorized, forbidden, not_installed, server_error, malformed)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


@dataclass(frozen=True)
class AiAccess:
    """The AI permissions of one user, as the policy gives them."""

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


NO_AI = AiAccess(role="", use_ai=False, models=())


def _malformed(what: str) -> RoleUnknown:
    return RoleUnknown("malformed", f"the AI access answer has no valid {what}")


def _optional_number(raw: Any, what: str, kind: type[int] | type[float]) -> Any:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise _malformed(what)
    return kind(raw)


def access_from_answer(found: Any) -> AiAccess:
    """The AI access API's answer → ``AiAccess``; anything of another shape is RoleUnknown."""
    if not isinstance(found, Mapping) or not isinstance(found.get("role"), str):
        raise _malformed("role")
    ai = found.get("ai")
    if not isinstance(ai, Mapping) or not isinstance(ai.get("enabled"), bool):
        raise _malformed("ai.enabled")
    models = ai.get("models")
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise _malformed("ai.models")
    limit = found.get("ai_requests")
    rate: tuple[float, int] | None = None
    if limit is not None:
        if not isinstance(limit, Mapping):
            raise _malformed("ai_requests")
        per_second = _optional_number(limit.get("per_second"), "ai_requests.per_second", float)
        burst = _optional_number(limit.get("burst"), "ai_requests.burst", int)
        if not per_second or not burst:
            raise _malformed("ai_requests")
        rate = (per_second, burst)
    return AiAccess(
        role=found["role"], use_ai=ai["enabled"], models=tuple(models),
        daily_usd=_optional_number(ai.get("daily_usd_budget"), "ai.daily_usd_budget", float),
        monthly_usd=_optional_number(ai.get("monthly_usd_budget"), "ai.monthly_usd_budget",
                                     float),
        daily_token_budget=_optional_number(ai.get("daily_token_budget"),
                                            "ai.daily_token_budget", int),
        rate=rate,
    )


RoleLookup = Callable[[str], Awaitable[AiAccess]]


class AccessPolicy:
    """Asks the access policy for a user's AI permissions, every time (no copy, no cache)."""

    def __init__(self, lookup: RoleLookup) -> None:
        self.lookup = lookup

    async def access(self, user_id: str) -> AiAccess:
        """The user's AI permissions; raises RoleUnknown (counted) when they cannot be had."""
        try:
            return await self.lookup(user_id)
        except RoleUnknown as exc:
            ROLE_LOOKUP_FAILURES.labels(exc.kind).inc()
            logger.warning("AI access of %s unknown (%s); refusing", user_id, exc)
            raise


class TokenSource(Protocol):
    """The bot's session: its current access token, and a renewal after a 401."""

    @property
    def token(self) -> str: ...

    async def renew(self, failed: str) -> None: ...


def _kind_of(response: httpx.Response) -> str:
    try:
        errcode = response.json().get("errcode")
    except (ValueError, AttributeError):
        errcode = None
    if response.status_code == 401:
        return "unauthorized"
    if response.status_code == 403:
        return "forbidden"
    if response.status_code == 404 and errcode == "M_UNRECOGNIZED":
        return "not_installed"
    return "server_error"


def _is_no_such_local_user(response: httpx.Response) -> bool:
    try:
        errcode = response.json().get("errcode")
    except (ValueError, AttributeError):
        return False
    return (response.status_code, errcode) in ((404, "M_NOT_FOUND"), (400, "M_INVALID_PARAM"))


def policy_api_lookup(base_url: str, session: TokenSource, *,
                      transport: httpx.AsyncBaseTransport | None = None) -> RoleLookup:
    """A lookup through the AI access API, as the bot (renewing its token once on a 401)."""

    async def get(user_id: str, token: str) -> httpx.Response:
        try:
            async with httpx.AsyncClient(base_url=base_url, timeout=LOOKUP_TIMEOUT_S,
                                         transport=transport) as http:
                return await http.get(AI_ACCESS_PATH + quote(user_id, safe=""),
                                      headers={"Authorization": f"Bearer {token}"})
        except httpx.TimeoutException as exc:
            raise RoleUnknown("timeout", str(exc) or type(exc).__name__) from exc
        except httpx.HTTPError as exc:
            raise RoleUnknown("unreachable", str(exc) or type(exc).__name__) from exc

    async def lookup(user_id: str) -> AiAccess:
        token = session.token
        response = await get(user_id, token)
        if response.status_code == 401:
            try:
                await session.renew(token)
            except Exception as exc:
                raise RoleUnknown("unauthorized", f"the session could not be renewed: {exc}"
                                  ) from exc
            response = await get(user_id, session.token)
        if response.status_code == 200:
            try:
                found = response.json()
            except ValueError:
                raise _malformed("JSON body") from None
            return access_from_answer(found)
        if _is_no_such_local_user(response):
            return NO_AI
        raise RoleUnknown(_kind_of(response), f"HTTP {response.status_code}: "
                                              f"{response.text[:200]}")

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
