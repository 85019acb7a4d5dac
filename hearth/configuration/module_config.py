"""``parse_module_config``: a module's raw config to its frozen model, or Synapse's ConfigError.

Each Synapse module (and the bot) declares its config as a ``FrozenConfig`` model built from
the shared types, and parses it once at start-up through this one function, so every config
problem reads the same: ``Error in configuration at 'login_security.lockout.window': got
'15x', expected a duration such as 30s, 15m, 11h or 7d``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from hearth.configuration.errors import config_error, describe

M = TypeVar("M", bound=BaseModel)


class FrozenConfig(BaseModel):
    """Base of every config model: unknown keys refused, immutable once parsed."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_module_config(model: type[M], raw: Any, section: str) -> M:
    """Validate ``raw`` (``None``: all defaults) as ``model``; errors name ``section.key``."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise config_error(section, f"got {raw!r}, expected a mapping")
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        raise config_error(*describe(exc, section)) from None
