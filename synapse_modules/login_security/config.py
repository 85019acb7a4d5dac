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

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hearth.synapse_modules.login_security.addresses import IPNetwork, parse_network
from hearth.synapse_modules.login_security.crypto import Keys
from hearth.synapse_modules.login_security.decisions import AddressRule

PREFIX = "login_security"
DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")
UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
            "w": 604_800_000}
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


class ConfigError(ValueError):
    """A config problem, naming the key under ``modules[].config``."""


def _error(path: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(f"Error in configuration at '{PREFIX}.{path}': got {value!r}, "
                       f"expected {expected}")


def _section(raw: Any, path: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _error(path, raw, "a mapping")
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"Error in configuration at '{PREFIX}.{path + '.' if path else ''}"
                              f"{key}': unknown key, expected one of {', '.join(allowed)}")
    return raw


def parse_duration_ms(value: Any, path: str) -> int:
    """``15m`` or a number of seconds, as milliseconds."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value * 1000
    if isinstance(value, str) and (match := DURATION.match(value.strip())):
        return int(match.group(1)) * UNITS_MS[match.group(2)]
    raise _error(path, value, "a duration such as 30s, 15m, 11h or 7d")


def _positive_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _error(path, value, "a positive integer")
    return value


def _string(value: Any, path: str, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not allow_empty):
        raise _error(path, value, "a string" if allow_empty else "a non-empty string")
    return value


def _networks(value: Any, path: str) -> tuple[IPNetwork, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise _error(path, value, "a list of IP addresses or ranges such as 10.0.0.0/8")
    networks = []
    for index, item in enumerate(value):
        try:
            networks.append(parse_network(item))
        except ValueError:
            raise _error(f"{path}[{index}]", item,
                         "an IP address or range such as 10.0.0.0/8") from None
    return tuple(networks)


def _role(value: Any, path: str) -> str:
    if not isinstance(value, str) or not ROLE_NAME.match(value):
        raise _error(path, value, "a role name such as admin or member")
    return value


@dataclass(frozen=True)
class LockoutConfig:
    """Failures within ``window_ms`` that lock an account or an address, and for how long."""

    account_failures: int = 5
    address_failures: int = 20
    window_ms: int = 15 * 60_000
    account_duration_ms: int = 15 * 60_000
    address_duration_ms: int = 15 * 60_000
    address_exempt: tuple[IPNetwork, ...] = ()


@dataclass(frozen=True)
class MfaConfig:
    """The TOTP second factor: who must use it, and the material it needs."""

    keys: Keys
    template_dir: str
    required_roles: frozenset[str] = frozenset()
    enrolment_grace_ms: int = 7 * 86_400_000
    issuer: str = "Hearth"
    recovery_codes: int = 10


@dataclass(frozen=True)
class LoginSecurityConfig:
    """The whole module configuration."""

    server_name: str
    public_baseurl: str
    mfa: MfaConfig
    lockout: LockoutConfig = LockoutConfig()
    trusted_proxies: tuple[IPNetwork, ...] = ()
    ip_rules: Mapping[str, AddressRule] = field(default_factory=dict)
    password_pepper: str = field(default="", repr=False)

    @property
    def enrol_url(self) -> str:
        return self.public_baseurl.rstrip("/") + "/_synapse/client/hearth/mfa/"

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> LoginSecurityConfig:
        """Validate the raw mapping from homeserver.yaml; ConfigError names the first problem."""
        top = _section(raw, "", ("server_name", "public_baseurl", "password_pepper",
                                 "trusted_proxies", "lockout", "ip_rules", "mfa"))
        server_name = _string(top.get("server_name"), "server_name")
        baseurl = _string(top.get("public_baseurl"), "public_baseurl")
        if not baseurl.startswith(("http://", "https://")):
            raise _error("public_baseurl", baseurl, "an http(s) URL")
        pepper = _string(top.get("password_pepper", ""), "password_pepper", allow_empty=True)

        lock = _section(top.get("lockout"), "lockout",
                        ("account_failures", "address_failures", "window", "account_duration",
                         "address_duration", "address_exempt"))
        defaults = LockoutConfig()
        lockout = LockoutConfig(
            account_failures=_positive_int(lock.get("account_failures",
                                                    defaults.account_failures),
                                           "lockout.account_failures"),
            address_failures=_positive_int(lock.get("address_failures",
                                                    defaults.address_failures),
                                           "lockout.address_failures"),
            window_ms=parse_duration_ms(lock.get("window", "15m"), "lockout.window"),
            account_duration_ms=parse_duration_ms(lock.get("account_duration", "15m"),
                                                  "lockout.account_duration"),
            address_duration_ms=parse_duration_ms(lock.get("address_duration", "15m"),
                                                  "lockout.address_duration"),
            address_exempt=_networks(lock.get("address_exempt"), "lockout.address_exempt"),
        )

        raw_rules = top.get("ip_rules") or {}
        if not isinstance(raw_rules, Mapping):
            raise _error("ip_rules", raw_rules, "a mapping of role names to {allow, deny}")
        rules: dict[str, AddressRule] = {}
        for role, raw_rule in raw_rules.items():
            _role(role, f"ip_rules.{role}")
            section = _section(raw_rule, f"ip_rules.{role}", ("allow", "deny"))
            rules[role] = AddressRule(
                allow=_networks(section.get("allow"), f"ip_rules.{role}.allow"),
                deny=_networks(section.get("deny"), f"ip_rules.{role}.deny"),
            )

        mfa_raw = _section(top.get("mfa"), "mfa",
                           ("required_roles", "enrolment_grace", "issuer", "secret_path",
                            "template_dir", "recovery_codes"))
        secret_path = _string(mfa_raw.get("secret_path"), "mfa.secret_path")
        try:
            keys = Keys.from_file(secret_path)
        except (OSError, ValueError) as exc:
            raise _error("mfa.secret_path", secret_path,
                         f"a readable file holding at least 32 bytes of secret ({exc})") from None
        template_dir = _string(mfa_raw.get("template_dir"), "mfa.template_dir")
        if not Path(template_dir).is_dir():
            raise _error("mfa.template_dir", template_dir, "a directory of templates")
        required = mfa_raw.get("required_roles") or []
        if not isinstance(required, list | tuple):
            raise _error("mfa.required_roles", required, "a list of role names")
        recovery = _positive_int(mfa_raw.get("recovery_codes", 10), "mfa.recovery_codes")
        if recovery > 50:
            raise _error("mfa.recovery_codes", recovery, "at most 50")
        mfa = MfaConfig(
            keys=keys,
            template_dir=template_dir,
            required_roles=frozenset(_role(r, f"mfa.required_roles[{i}]")
                                     for i, r in enumerate(required)),
            enrolment_grace_ms=parse_duration_ms(mfa_raw.get("enrolment_grace", "7d"),
                                                 "mfa.enrolment_grace"),
            issuer=_string(mfa_raw.get("issuer", "Hearth"), "mfa.issuer"),
            recovery_codes=recovery,
        )
        return cls(
            server_name=server_name,
            public_baseurl=baseurl,
            mfa=mfa,
            lockout=lockout,
            trusted_proxies=_networks(top.get("trusted_proxies"), "trusted_proxies"),
            ip_rules=MappingProxyType(rules),
            password_pepper=pepper,
        )
