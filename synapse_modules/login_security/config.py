"""Configuration of the login security module, parsed once at start-up (frozen).

Rendered by ``hearth/render.py`` from the ``login_security`` and ``auth`` settings; every
problem names its path, e.g. ``Error in configuration at 'login_security.lockout.window':
got '15x', expected a duration such as 30s, 15m, 11h or 7d``.

    server_name: localhost
    public_baseurl: https://matrix.example.org/
    password_pepper: ""               # Synapse's password_config.pepper, if one is set
    trusted_proxies: [127.0.0.1]      # only these may set X-Forwarded-For
    lockout:
      account_failures: 5             # auth.failed_login_limit
      address_failures: 20
      window: 15m
      account_duration: 15m
      address_duration: 15m
      address_exempt: []              # ranges never blocked as a whole (e.g. an office NAT)
    ip_rules:                         # per role; empty allow means anywhere
      admin: {allow: [10.0.0.0/8], deny: []}
    mfa:
      required_roles: [admin]
      enrolment_grace: 7d
      issuer: Hearth
      secret_path: /data/secrets/mfa_encryption_key
      template_dir: /app/config/templates/mfa
      recovery_codes: 10
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from hearth.configuration.module_config import FrozenConfig, parse_module_config
from hearth.configuration.types import DurationMs, IpNetwork, NonEmptyText, RoleName, ServerName
from hearth.synapse_modules.login_security.crypto import Keys
from hearth.synapse_modules.login_security.decisions import AddressRule

SECTION = "login_security"
MINUTES_15_MS = 15 * 60_000

Count = Annotated[int, Field(ge=1, strict=True)]


def _keys(path: Any) -> Keys:
    if not isinstance(path, str) or not path:
        raise ValueError("expected the path of the MFA secret file")
    try:
        return Keys.from_file(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"expected a readable file holding at least 32 bytes of secret "
                         f"({exc})") from None


def _directory(path: str) -> str:
    if not Path(path).is_dir():
        raise ValueError("expected a directory of templates")
    return path


def _http_url(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValueError("expected an http(s) URL")
    return value


class LockoutConfig(FrozenConfig):
    """Failures within ``window`` that lock an account or an address, and for how long."""

    account_failures: Count = 5
    address_failures: Count = 20
    window_ms: DurationMs = Field(default=MINUTES_15_MS, validation_alias="window")
    account_duration_ms: DurationMs = Field(default=MINUTES_15_MS,
                                            validation_alias="account_duration")
    address_duration_ms: DurationMs = Field(default=MINUTES_15_MS,
                                            validation_alias="address_duration")
    # Ranges never blocked as a whole (e.g. an office NAT).
    address_exempt: tuple[IpNetwork, ...] = ()


class MfaConfig(FrozenConfig):
    """The TOTP second factor: who must use it, and the material it needs."""

    keys: Annotated[Keys, BeforeValidator(_keys)] = Field(validation_alias="secret_path",
                                                          repr=False)
    template_dir: Annotated[str, AfterValidator(_directory)]
    required_roles: frozenset[RoleName] = frozenset()
    enrolment_grace_ms: DurationMs = Field(default=7 * 86_400_000,
                                           validation_alias="enrolment_grace")
    issuer: NonEmptyText = "Hearth"
    recovery_codes: Annotated[int, Field(ge=1, le=50, strict=True)] = 10


class AddressRuleConfig(FrozenConfig):
    """Ranges a role may log in from (empty: anywhere), and ranges it may not."""

    allow: tuple[IpNetwork, ...] = ()
    deny: tuple[IpNetwork, ...] = ()


class LoginSecurityConfig(FrozenConfig):
    """The whole module configuration."""

    server_name: ServerName
    public_baseurl: Annotated[str, BeforeValidator(_http_url)]
    mfa: MfaConfig
    lockout: LockoutConfig = LockoutConfig()
    # Only these may set X-Forwarded-For.
    trusted_proxies: tuple[IpNetwork, ...] = ()
    address_rules: dict[RoleName, AddressRuleConfig] = Field(default_factory=dict,
                                                             validation_alias="ip_rules")
    # Synapse's password_config.pepper: the module checks passwords against Synapse's hashes.
    password_pepper: str = Field(default="", repr=False)

    @cached_property
    def ip_rules(self) -> Mapping[str, AddressRule]:
        """The address rule of each role, as the decision layer takes it."""
        return MappingProxyType({role: AddressRule(allow=rule.allow, deny=rule.deny)
                                 for role, rule in self.address_rules.items()})

    @property
    def enrol_url(self) -> str:
        return self.public_baseurl.rstrip("/") + "/_synapse/client/hearth/mfa/"

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> LoginSecurityConfig:
        """Validate the raw mapping from homeserver.yaml; Synapse's ConfigError names the key."""
        return parse_module_config(cls, raw, SECTION)
