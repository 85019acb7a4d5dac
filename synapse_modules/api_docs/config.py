"""Configuration of the API description module: which modules' endpoints the server has."""

from __future__ import annotations

from typing import Any, Literal

from hearth.configuration.module_config import FrozenConfig, parse_module_config

DocumentedModule = Literal["access_policy", "login_security", "media_repo"]


class ApiDocsConfig(FrozenConfig):
    """The enabled modules that serve HTTP endpoints (render.py fills it in)."""

    documented_modules: tuple[DocumentedModule, ...] = ()

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> ApiDocsConfig:
        """Validate the raw mapping from homeserver.yaml; Synapse's ConfigError names the key."""
        return parse_module_config(cls, raw, "api_docs")
