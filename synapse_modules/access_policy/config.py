"""Configuration of the access policy module, parsed once at start-up.

The module's own settings come from ``modules[].config`` (rendered from hearth/settings.py);
the policy itself is read from ``policy_file`` and validated here, so a bad policy stops
Synapse's start with the key, the value and what is expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hearth.synapse_modules.access_policy.policy import Policy, PolicyError, load_policy, parse_size


class ConfigError(ValueError):
    """A config problem, naming the key under ``modules[].config``."""


def _error(key: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(
        f"Error in configuration at 'access_policy.{key}': got {value!r}, expected {expected}"
    )


@dataclass(frozen=True)
class RedisConfig:
    """Where the shared rate-limit counters live (the same Redis Synapse replicates over)."""

    host: str
    port: int
    dbid: int = 0
    password: str | None = None


@dataclass(frozen=True)
class AccessPolicyConfig:
    """The loaded policy and how the module runs."""

    server_name: str
    policy_file: str
    policy: Policy
    redis: RedisConfig | None = None
    poll_interval_ms: int = 250
    users_gauge_interval_s: float = 60.0
    server_max_upload_size: int | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> AccessPolicyConfig:
        """Validate the raw mapping from homeserver.yaml and load the policy file."""
        server_name = raw.get("server_name")
        if not isinstance(server_name, str) or not server_name:
            raise _error("server_name", server_name, "a non-empty string")
        policy_file = raw.get("policy_file")
        if not isinstance(policy_file, str) or not policy_file:
            raise _error("policy_file", policy_file, "the path of the policy file")
        try:
            policy = load_policy(policy_file)
        except PolicyError as exc:
            raise ConfigError(f"{exc} (in {policy_file})") from None
        poll = raw.get("poll_interval_ms", 250)
        if isinstance(poll, bool) or not isinstance(poll, int) or not 50 <= poll <= 1000:
            raise _error("poll_interval_ms", poll, "an integer from 50 to 1000")
        gauge = raw.get("users_gauge_interval_s", 60.0)
        if isinstance(gauge, bool) or not isinstance(gauge, int | float) or gauge <= 0:
            raise _error("users_gauge_interval_s", gauge, "a positive number of seconds")
        max_upload = raw.get("max_upload_size")
        try:
            server_max = None if max_upload is None else parse_size(max_upload, "")
        except PolicyError:
            raise _error("max_upload_size", max_upload, "a size such as 50M") from None
        return cls(
            server_name=server_name,
            policy_file=policy_file,
            policy=policy,
            redis=_redis(raw.get("redis")),
            poll_interval_ms=poll,
            users_gauge_interval_s=float(gauge),
            server_max_upload_size=server_max,
        )


def _redis(raw: Any) -> RedisConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _error("redis", raw, "a mapping with host and port, or null")
    host, port = raw.get("host"), raw.get("port", 6379)
    if not isinstance(host, str) or not host:
        raise _error("redis.host", host, "a host name")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise _error("redis.port", port, "a port number")
    dbid = raw.get("dbid", 0)
    if isinstance(dbid, bool) or not isinstance(dbid, int) or dbid < 0:
        raise _error("redis.dbid", dbid, "a database number")
    password = raw.get("password") or None
    if password is not None and not isinstance(password, str):
        raise _error("redis.password", "***", "a string")
    return RedisConfig(host=host, port=port, dbid=dbid, password=password)
