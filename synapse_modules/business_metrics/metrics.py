"""Prometheus series of the business metrics module, on Synapse's global registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

MESSAGES = Counter(
    "hearth_messages_total",
    "Messages sent by local users, by message type",
    ["server_name", "kind"],
)
ROOMS_CREATED = Counter(
    "hearth_rooms_created_total", "Rooms created by local users", ["server_name"]
)
REGISTRATIONS = Counter(
    "hearth_registrations_total", "Accounts registered on this server", ["server_name"]
)
ACTIVE_USERS = Gauge(
    "hearth_active_users",
    "Distinct local users seen within the window",
    ["server_name", "window"],
)
