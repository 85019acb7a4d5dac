"""Login security reads roles from the access policy: admins stay admin, others get their role."""

from __future__ import annotations

from hearth.render import PROJECT_DIR
from hearth.synapse_modules.access_policy import runtime
from hearth.synapse_modules.access_policy.policy import load_policy
from hearth.synapse_modules.login_security.roles import RoleLookup

POLICY = PROJECT_DIR / "config" / "policy.yaml"


async def _is_admin(user_id: str) -> bool:
    return user_id == "@root:example.org"


async def test_roles_come_from_the_access_policy() -> None:
    """A policy role is used; server admins are 'admin'; no policy module means 'member'."""
    policy = load_policy(POLICY)

    async def lookup(user_id: str):
        return policy.role("guest")

    lookup_roles = RoleLookup(_is_admin)
    runtime.register(lookup)
    try:
        assert await lookup_roles.role_of("@visitor:example.org") == "guest"
        assert await lookup_roles.role_of("@root:example.org") == "admin"
    finally:
        runtime.register(None)
    assert await lookup_roles.role_of("@visitor:example.org") == "member"
