"""Configuration of the content guard module, parsed once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hearth.synapse_modules.content_guard.sanitize import SPEC_MAX_NESTING_DEPTH
from hearth.synapse_modules.content_guard.validate import Limits

# Synapse refuses any event over 65536 bytes; a single field can never be larger.
MAX_EVENT_BYTES = 65_536


class ConfigError(ValueError):
    """A config problem, naming the key under ``modules[].config``."""


def _int_setting(raw: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(
            f"Error in configuration at 'content_guard.{key}': got {value!r}, "
            f"expected a whole number from {low} to {high}"
        )
    return value


@dataclass(frozen=True)
class ContentGuardConfig:
    """The label for metrics, and the per-field limits of ``m.room.message`` content."""

    server_name: str
    limits: Limits

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> ContentGuardConfig:
        """Validate the raw mapping from homeserver.yaml."""
        server_name = raw.get("server_name")
        if not isinstance(server_name, str) or not server_name:
            raise ConfigError(
                f"Error in configuration at 'content_guard.server_name': got {server_name!r},"
                " expected a non-empty string"
            )
        unknown = sorted(set(raw) - {"server_name", "max_body_bytes",
                                     "max_formatted_body_bytes", "max_nesting_depth"})
        if unknown:
            raise ConfigError(
                f"Error in configuration at 'content_guard.{unknown[0]}': unknown key; "
                "expected server_name, max_body_bytes, max_formatted_body_bytes or "
                "max_nesting_depth"
            )
        defaults = Limits()
        limits = Limits(
            max_body_bytes=_int_setting(raw, "max_body_bytes", defaults.max_body_bytes,
                                        1, MAX_EVENT_BYTES),
            max_formatted_body_bytes=_int_setting(
                raw, "max_formatted_body_bytes", defaults.max_formatted_body_bytes,
                1, MAX_EVENT_BYTES),
            max_nesting_depth=_int_setting(raw, "max_nesting_depth", SPEC_MAX_NESTING_DEPTH,
                                           1, SPEC_MAX_NESTING_DEPTH),
        )
        return cls(server_name=server_name, limits=limits)
