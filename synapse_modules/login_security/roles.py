"""Which role a user has, for address rules and required MFA: the one adapter to change.

The access policy module owns roles (``synapse_modules/access_policy``). Until it offers a
lookup other modules can call, this adapter answers the way the project defines the
baseline: Synapse server admins have the role ``admin``, everyone else ``member``. Point
``RoleLookup`` at the access policy's resolver when it exposes one; nothing else in this
module reads roles.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

ADMIN = "admin"
MEMBER = "member"


class RoleLookup:
    """``await lookup.role_of(user_id)`` -> role name."""

    def __init__(self, is_server_admin: Callable[[str], Awaitable[bool]]) -> None:
        self._is_server_admin = is_server_admin

    async def role_of(self, user_id: str) -> str:
        return ADMIN if await self._is_server_admin(user_id) else MEMBER
