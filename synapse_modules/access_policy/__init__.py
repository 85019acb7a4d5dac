"""Access policy: roles, permissions and rate limits from one policy model.

This package's top level is the library API that the media code and the AI bot read; it has
no Synapse imports. The Synapse module itself is
``synapse_modules.access_policy.module.AccessPolicyModule``.

    from hearth.synapse_modules.access_policy import load_policy
    policy = load_policy("config/policy.yaml")
    role = policy.role("member")
    role.permissions.ai.may_use_model("gpt-4o")
    policy.role_for_registration(email="ann@example.org")
"""

from hearth.synapse_modules.access_policy.decisions import Decision, may_upload_media, may_use_ai
from hearth.synapse_modules.access_policy.policy import (
    LIMITERS,
    AiPermissions,
    MediaPermissions,
    Permissions,
    Policy,
    PolicyError,
    RateLimit,
    RateLimits,
    RegistrationRule,
    Role,
    load_policy,
    parse_policy,
)

__all__ = [
    "LIMITERS",
    "AiPermissions",
    "Decision",
    "MediaPermissions",
    "Permissions",
    "Policy",
    "PolicyError",
    "RateLimit",
    "RateLimits",
    "RegistrationRule",
    "Role",
    "load_policy",
    "may_upload_media",
    "may_use_ai",
    "parse_policy",
]
