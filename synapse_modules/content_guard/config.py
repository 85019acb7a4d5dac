"""Configuration of the content guard module, parsed once at start-up (frozen)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from hearth.configuration.module_config import FrozenConfig, parse_module_config
from hearth.configuration.types import ServerName
from hearth.synapse_modules.content_guard.sanitize import SPEC_MAX_NESTING_DEPTH
from hearth.synapse_modules.content_guard.validate import Limits

# Synapse refuses any event over 65536 bytes; a single field can never be larger.
MAX_EVENT_BYTES = 65_536
FieldBytes = Annotated[int, Field(ge=1, le=MAX_EVENT_BYTES, strict=True)]


class ContentGuardConfig(FrozenConfig):
    """The label for metrics, and the per-field limits of ``m.room.message`` content."""

    server_name: ServerName
    max_body_bytes: FieldBytes = Limits.max_body_bytes
    max_formatted_body_bytes: FieldBytes = Limits.max_formatted_body_bytes
    max_nesting_depth: Annotated[int, Field(ge=1, le=SPEC_MAX_NESTING_DEPTH, strict=True)] = (
        SPEC_MAX_NESTING_DEPTH)

    @property
    def limits(self) -> Limits:
        """The limits as the validation layer takes them."""
        return Limits(max_body_bytes=self.max_body_bytes,
                      max_formatted_body_bytes=self.max_formatted_body_bytes,
                      max_nesting_depth=self.max_nesting_depth)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> ContentGuardConfig:
        """Validate the raw mapping from homeserver.yaml; Synapse's ConfigError names the key."""
        return parse_module_config(cls, raw, "content_guard")
