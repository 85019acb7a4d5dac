"""Configuration of the business metrics module, parsed once at start-up (frozen)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hearth.configuration.module_config import FrozenConfig, parse_module_config
from hearth.configuration.types import ServerName


class BusinessMetricsConfig(FrozenConfig):
    """How often the gauges and counters are brought up to date, and the label of every series."""

    server_name: ServerName
    active_users_interval_s: float = Field(default=60.0, gt=0)
    # How often persisted events are read and counted; the message and room counters lag
    # behind by at most this much.
    events_interval_s: float = Field(default=5.0, gt=0)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> BusinessMetricsConfig:
        """Validate the raw mapping from homeserver.yaml; Synapse's ConfigError names the key."""
        return parse_module_config(cls, raw, "business_metrics")
