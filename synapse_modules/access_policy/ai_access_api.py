"""What the AI bot needs of the policy, under ``/_synapse/client/hearth/v1/ai/access``.

    GET .../ai/access/<user_id>   the user's role, AI permissions and AI request rate

The bot enforces the policy's AI rules (principle 2: one policy, many enforcers), so it must
learn them for each asker without holding an admin token: only accounts of Synapse's user type
``bot`` may call this (set at registration through the shared secret or by an admin, never by
a user), and they learn no more than the AI part of the policy. Everyone else gets 403 (401
without a token). Errors are Matrix errors: 400 for a malformed or remote user ID, 404 for an
unknown user or path, 503 while the policy is starting or cannot be read.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import Counter
from synapse.api.errors import Codes, NotFoundError, SynapseError
from synapse.module_api import ModuleApi

from hearth.synapse_compat.web import DirectServeJsonResource, SynapseRequest
from hearth.synapse_modules.access_policy.admin_input import InputError, local_user_id
from hearth.synapse_modules.access_policy.policy import Role

logger = logging.getLogger(__name__)

AI_ACCESS_PREFIX = "/_synapse/client/hearth/v1/ai/access"
BOT_USER_TYPE = "bot"

AI_ACCESS_REFUSALS = Counter(
    "hearth_ai_access_api_refusals_total",
    "Calls of the AI access API refused, by reason (not_a_bot, bad_user_id, unknown_user, "
    "unavailable)",
    ["server_name", "reason"],
)


class AiAccessResource(DirectServeJsonResource):
    """Answers bot accounts with one user's AI permissions."""

    isLeaf = True

    def __init__(self, api: ModuleApi, role_of: Callable[[str], Awaitable[Role]],
                 version: Callable[[], int | None], server_name: str) -> None:
        super().__init__()
        self._api = api
        self._role_of = role_of
        self._version = version
        self._server_name = server_name

    def _refuse(self, reason: str, error: SynapseError) -> SynapseError:
        AI_ACCESS_REFUSALS.labels(self._server_name, reason).inc()
        return error

    async def _async_render_GET(self, request: SynapseRequest) -> tuple[int, Any]:
        await self._require_bot(request)
        parts = [p.decode("utf-8", errors="replace") for p in (request.postpath or [])]
        if len(parts) != 1 or not parts[0]:
            raise SynapseError(404, "Unknown AI access path; use GET .../ai/access/<user_id>",
                               Codes.UNRECOGNIZED)
        user_id = await self._local_user(parts[0])
        try:
            role = await self._role_of(user_id)
        except SynapseError:
            raise
        except Exception:
            logger.exception("access_policy: the AI access of %s could not be read", user_id)
            raise self._refuse("unavailable", SynapseError(
                503, "The access policy could not be read; try again shortly",
                Codes.UNKNOWN)) from None
        limit = role.rate_limits.get("ai_requests")
        return 200, {
            "user_id": user_id,
            "role": role.name,
            "ai": role.permissions.ai.as_dict(),
            "ai_requests": limit.as_dict() if limit else None,
            "policy_version": self._version(),
        }

    async def _require_bot(self, request: SynapseRequest) -> None:
        requester = await self._api.get_user_by_req(request)
        info = await self._api.get_userinfo_by_id(requester.user.to_string())
        if info is None or info.user_type != BOT_USER_TYPE:
            raise self._refuse("not_a_bot", SynapseError(
                403, "Only bot accounts may read users' AI access", Codes.FORBIDDEN))

    async def _local_user(self, raw: str) -> str:
        try:
            local_user_id(raw, "user_id", self._server_name)
        except InputError as exc:
            raise self._refuse("bad_user_id",
                               SynapseError(400, exc.message, exc.errcode)) from None
        canonical = await self._api.check_user_exists(raw)
        if canonical is None:
            raise self._refuse("unknown_user", NotFoundError(f"No such user {raw}"))
        return canonical
