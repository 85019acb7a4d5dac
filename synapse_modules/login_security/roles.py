"""Which role a user has, for address rules and required MFA: the one adapter to change.

Roles are owned by the access policy module (``synapse_modules/access_policy``), which
registers its cached, cross-worker-invalidated resolver in ``access_policy.runtime``. A
Synapse server admin is always ``admin`` here (the strictest MFA and address rules apply to
whoever can reach the admin API); everyone else gets the policy's role. Without the access
policy module loaded, everyone else is ``member``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hearth.synapse_modules.access_policy import runtime as policy_runtime

ADMIN = "admin"
MEMBER = "member"


class RoleLookup:
    """``await lookup.role_of(user_id)`` -> role name."""

    def __init__(self, is_server_admin: Callable[[str], Awaitable[bool]]) -> None:
        self._is_server_admin = is_server_admin

    async def role_of(self, user_id: str) -> str:
        if await self._is_server_admin(user_id):
            return ADMIN
        role = await policy_runtime.role_of(user_id)
        return MEMBER if role is None else role.name
