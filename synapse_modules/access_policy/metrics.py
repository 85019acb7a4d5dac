"""Prometheus series of the access policy module, on Synapse's global registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

REFUSALS = Counter(
    "hearth_policy_refusals_total",
    "Actions refused by the access policy, by the permission that was missing",
    ["server_name", "permission"],
)
RATE_LIMITED = Counter(
    "hearth_policy_rate_limited_total",
    "Actions refused with 429 by a per-role rate limit, by limiter",
    ["server_name", "limiter"],
)
INVALID_REQUESTS = Counter(
    "hearth_policy_invalid_requests_total",
    "Requests refused 400 because the policy could not read them, by reason "
    "(invalid_user_id, invalid_query, invalid_body, invalid_room_config)",
    ["server_name", "reason"],
)
USERS_PER_ROLE = Gauge(
    "hearth_policy_users",
    "Active local accounts by effective role (exported by the background-tasks process)",
    ["server_name", "role"],
)
ROLE_CHANGES = Counter(
    "hearth_policy_role_changes_total",
    "Role assignments written or revoked through this process",
    ["server_name", "action"],
)
