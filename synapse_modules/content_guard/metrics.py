"""Prometheus series of the content guard, on Synapse's global registry."""

from __future__ import annotations

from prometheus_client import Counter

SANITISED = Counter(
    "hearth_content_sanitised_total",
    "Local m.room.message events whose formatted_body was rewritten by the sanitiser",
    ["server_name"],
)
REFUSED = Counter(
    "hearth_content_refused_total",
    "Local m.room.message events refused, by reason (missing_field, wrong_type, too_large,"
    " too_deep, internal_error)",
    ["server_name", "reason"],
)
