"""Which role a user has right now, cached per process and dropped when the version moves.

The effective role is, in order: the user's stored assignment (by an admin or a
registration rule), the policy's ``guest_role`` for Synapse guest accounts, or the default
role. A stored role the policy no longer defines resolves to the default role (and is
logged), so editing the file never locks accounts out by accident.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hearth.synapse_modules.access_policy.policy import Policy, Role
from hearth.synapse_modules.access_policy.store import Assignment

logger = logging.getLogger(__name__)

MAX_CACHED = 50_000


@dataclass(frozen=True)
class Resolved:
    """A user's effective role and why they have it (assignment, guest or default)."""

    role: Role
    source: str
    assignment: Assignment | None = None


class RoleResolver:
    """Per-process cache of effective roles, invalidated as a whole on a version change."""

    def __init__(
        self,
        policy: Policy,
        get_assignment: Callable[[str], Awaitable[Assignment | None]],
        is_guest: Callable[[str], Awaitable[bool]],
    ) -> None:
        self._policy = policy
        self._get_assignment = get_assignment
        self._is_guest = is_guest
        self._cache: dict[str, Resolved] = {}
        self._version: int | None = None
        self._generation = 0  # bumps on every invalidation, to drop in-flight lookups

    @property
    def version(self) -> int | None:
        return self._version

    def observe_version(self, version: int) -> bool:
        """Record the database's version; returns True when it moved (caches dropped)."""
        if version == self._version:
            return False
        self._version = version
        self.invalidate()
        return True

    def invalidate(self) -> None:
        self._cache.clear()
        self._generation += 1

    async def resolve(self, user_id: str) -> Resolved:
        cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        generation = self._generation
        resolved = await self._lookup(user_id)
        if generation == self._generation:  # no change landed while we were looking
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[user_id] = resolved
        return resolved

    async def role_of(self, user_id: str) -> Role:
        return (await self.resolve(user_id)).role

    async def _lookup(self, user_id: str) -> Resolved:
        assignment = await self._get_assignment(user_id)
        if assignment is not None:
            if self._policy.has_role(assignment.role):
                return Resolved(self._policy.role(assignment.role), "assignment", assignment)
            logger.warning("access_policy: %s has role %r, which the policy does not define; "
                           "using the default role %r", user_id, assignment.role,
                           self._policy.default_role)
            return Resolved(self._policy.default, "default", assignment)
        if self._policy.guest_role is not None and await self._is_guest(user_id):
            return Resolved(self._policy.role(self._policy.guest_role), "guest")
        return Resolved(self._policy.default, "default")
