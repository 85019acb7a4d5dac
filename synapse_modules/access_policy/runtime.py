"""In-process role lookup for other modules running in the same Synapse process.

The access policy module registers its resolver here when Synapse loads it, so another
module (login security's MFA and address rules, for instance) can ask, at call time:

    from hearth.synapse_modules.access_policy import runtime
    role = await runtime.role_of("@ann:example.org")   # a policy Role, or None

``None`` means the access policy module is not loaded in this process. The answer is the
same cached, cross-process-invalidated view the policy enforces (no Synapse imports here).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hearth.synapse_modules.access_policy.policy import Role

_lookup: Callable[[str], Awaitable[Role]] | None = None


def register(lookup: Callable[[str], Awaitable[Role]] | None) -> None:
    """Called by the access policy module when it is loaded (one per Synapse process)."""
    global _lookup
    _lookup = lookup


async def role_of(user_id: str) -> Role | None:
    """The user's effective role, or None when the access policy module is not loaded."""
    if _lookup is None:
        return None
    return await _lookup(user_id)
