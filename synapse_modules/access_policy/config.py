"""Configuration of the access policy module, parsed once at start-up (frozen).

The module's own settings come from ``modules[].config`` (rendered from hearth/settings.py);
the policy itself is read from ``policy_file`` and validated here, so a bad policy stops
Synapse's start with the key, the value and what is expected.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, PrivateAttr

from hearth.configuration.errors import ConfigError
from hearth.configuration.module_config import FrozenConfig, parse_module_config
from hearth.configuration.types import ByteSize, NonEmptyText, Port, ServerName
from hearth.synapse_modules.access_policy.policy import Policy, PolicyError, load_policy

SECTION = "access_policy"


class RedisConfig(FrozenConfig):
    """Where the shared rate-limit counters live (the same Redis Synapse replicates over)."""

    host: NonEmptyText
    port: Port = 6379
    dbid: int = Field(default=0, ge=0, strict=True)
    password: Annotated[str | None, AfterValidator(lambda value: value or None)] = Field(
        default=None, repr=False)


class AccessPolicyConfig(FrozenConfig):
    """How the module runs; ``policy`` is the policy file, loaded and validated."""

    server_name: ServerName
    policy_file: NonEmptyText
    redis: RedisConfig | None = None
    poll_interval_ms: int = Field(default=250, ge=50, le=1000, strict=True)
    users_gauge_interval_s: float = Field(default=60.0, gt=0)
    server_max_upload_size: ByteSize | None = Field(default=None,
                                                    validation_alias="max_upload_size")
    _policy: Policy | None = PrivateAttr(default=None)

    @property
    def policy(self) -> Policy:
        """The policy file's content; set by ``parse``."""
        if self._policy is None:
            raise RuntimeError("AccessPolicyConfig.parse loads the policy; use it")
        return self._policy

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> AccessPolicyConfig:
        """Validate the raw mapping from homeserver.yaml, then load the policy file."""
        config = parse_module_config(cls, raw, SECTION)
        try:
            config._policy = load_policy(config.policy_file)
        except PolicyError as exc:  # already names its path inside the policy file
            raise ConfigError(f"{exc} (in {config.policy_file})") from None
        return config
