"""Configuration of the business metrics module, parsed once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """A config problem, naming the key under ``modules[].config``."""


@dataclass(frozen=True)
class BusinessMetricsConfig:
    """How often active-user gauges are refreshed, and the label to put on every series."""

    server_name: str
    active_users_interval_s: float = 60.0

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> BusinessMetricsConfig:
        """Validate the raw mapping from homeserver.yaml."""
        server_name = raw.get("server_name")
        if not isinstance(server_name, str) or not server_name:
            raise ConfigError(
                f"Error in configuration at 'business_metrics.server_name': got {server_name!r},"
                " expected a non-empty string"
            )
        interval = raw.get("active_users_interval_s", 60.0)
        if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
            raise ConfigError(
                "Error in configuration at 'business_metrics.active_users_interval_s': "
                f"got {interval!r}, expected a positive number of seconds"
            )
        return cls(server_name=server_name, active_users_interval_s=float(interval))
