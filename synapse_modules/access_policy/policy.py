"""The policy model: roles, their permissions and rate limits, and registration rules.

This module is the library API that the Synapse module, the media code and the AI bot all
read (no Synapse imports). ``load_policy(path)`` parses and validates ``config/policy.yaml``
into frozen dataclasses; any problem raises ``PolicyError`` naming the key, the value and
what is expected, e.g. ``Error in policy at 'roles.member.rate_limits.messages.per_second':
got -1, expected a positive number``.

Defaults are deliberate: a permission a role does not mention is *not* granted, while a rate
limit a role does not mention means "no limit of ours" (Synapse's own limiters still apply).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

from hearth.configuration.types import ROLE_NAME

T = TypeVar("T")

LIMITERS = ("messages", "joins", "invites", "media_uploads", "ai_requests")
SIZE = re.compile(r"^(\d+)\s*([KMG]?)B?$", re.IGNORECASE)
SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


class PolicyError(ValueError):
    """A problem in the policy, phrased for the person who wrote the file."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"Error in policy at '{path}': {problem}")
        self.path = path
        self.problem = problem


def _got(value: Any, expected: str) -> str:
    return f"got {value!r}, expected {expected}"


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``burst`` actions at once, refilled at ``per_second``."""

    per_second: float
    burst: int

    def as_dict(self) -> dict[str, Any]:
        return {"per_second": self.per_second, "burst": self.burst}


@dataclass(frozen=True)
class RateLimits:
    """Per-role limits; ``None`` means no limit of ours (Synapse's floor still applies)."""

    messages: RateLimit | None = None
    joins: RateLimit | None = None
    invites: RateLimit | None = None
    media_uploads: RateLimit | None = None
    ai_requests: RateLimit | None = None

    def get(self, limiter: str) -> RateLimit | None:
        """The limit for one of ``LIMITERS``."""
        if limiter not in LIMITERS:
            raise KeyError(limiter)
        value: RateLimit | None = getattr(self, limiter)
        return value

    def as_dict(self) -> dict[str, Any]:
        return {name: (limit.as_dict() if (limit := self.get(name)) else None)
                for name in LIMITERS}


@dataclass(frozen=True)
class MediaPermissions:
    """Uploads: whether at all, the largest file, and the total a user may store."""

    upload: bool = False
    max_upload_size: int | None = None  # bytes; None: the server's max_upload_size
    quota: int | None = None  # bytes in total; None: no quota
    # MIME globs of what the content may be (read from the bytes); None: the server's list.
    allowed_types: tuple[str, ...] | None = None

    def may_upload_type(self, mime: str, server_default: Sequence[str]) -> bool:
        """Whether a file whose content is ``mime`` may be uploaded under this role."""
        patterns = server_default if self.allowed_types is None else self.allowed_types
        return any(fnmatch.fnmatchcase(mime, p) for p in patterns)

    def as_dict(self) -> dict[str, Any]:
        return {"upload": self.upload, "max_upload_size": self.max_upload_size,
                "quota": self.quota,
                "allowed_types": None if self.allowed_types is None
                else list(self.allowed_types)}


@dataclass(frozen=True)
class AiPermissions:
    """The AI bot: whether a user may use it, which models, and a daily token budget."""

    enabled: bool = False
    models: tuple[str, ...] = ()  # model names or globs ("gpt-4o*", "*")
    daily_token_budget: int | None = None  # None: no budget
    daily_usd_budget: float | None = None
    monthly_usd_budget: float | None = None

    def may_use_model(self, model: str) -> bool:
        """Whether ``model`` matches one of the models this role may ask the bot to use."""
        return self.enabled and any(fnmatch.fnmatchcase(model, p) for p in self.models)

    def as_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "models": list(self.models),
                "daily_token_budget": self.daily_token_budget,
                "daily_usd_budget": self.daily_usd_budget,
                "monthly_usd_budget": self.monthly_usd_budget}


@dataclass(frozen=True)
class Permissions:
    """What a role may do. Anything not granted in the file is refused."""

    create_rooms: bool = False
    create_public_rooms: bool = False
    publish_to_directory: bool = False
    invite: bool = False
    join_public_rooms: bool = False
    join_remote_rooms: bool = False
    send_state_events: tuple[str, ...] = ()  # event types or globs ("m.room.*", "*")
    media: MediaPermissions = MediaPermissions()
    ai: AiPermissions = AiPermissions()

    def may_send_state_event(self, event_type: str) -> bool:
        """Whether a state event of ``event_type`` matches one of the allowed patterns."""
        return any(fnmatch.fnmatchcase(event_type, p) for p in self.send_state_events)

    def as_dict(self) -> dict[str, Any]:
        return {
            "create_rooms": self.create_rooms,
            "create_public_rooms": self.create_public_rooms,
            "publish_to_directory": self.publish_to_directory,
            "invite": self.invite,
            "join_public_rooms": self.join_public_rooms,
            "join_remote_rooms": self.join_remote_rooms,
            "send_state_events": list(self.send_state_events),
            "media": self.media.as_dict(),
            "ai": self.ai.as_dict(),
        }


@dataclass(frozen=True)
class Role:
    """One role: a name, what it may do, and how fast."""

    name: str
    description: str
    permissions: Permissions
    rate_limits: RateLimits

    def as_dict(self) -> dict[str, Any]:
        """The role as JSON, as the admin API's effective-permissions answer shows it."""
        return {
            "role": self.name,
            "description": self.description,
            "permissions": self.permissions.as_dict(),
            "rate_limits": self.rate_limits.as_dict(),
        }


@dataclass(frozen=True)
class RegistrationRule:
    """Picks ``role`` for a new account whose e-mail domain or SSO attribute matches."""

    role: str
    email_domains: tuple[str, ...] = ()
    sso_attribute: str | None = None
    sso_values: tuple[str, ...] = ()

    def matches(self, email: str | None, sso_attributes: Mapping[str, Any] | None) -> bool:
        if self.email_domains and email and "@" in email:
            domain = email.rsplit("@", 1)[1].lower()
            if any(domain == d or domain.endswith("." + d) for d in self.email_domains):
                return True
        if self.sso_attribute and sso_attributes and self.sso_attribute in sso_attributes:
            found = sso_attributes[self.sso_attribute]
            values = found if isinstance(found, list | tuple | set) else [found]
            return any(str(v) in self.sso_values for v in values)
        return False


@dataclass(frozen=True)
class Policy:
    """The whole policy file, validated."""

    roles: Mapping[str, Role]
    default_role: str
    guest_role: str | None
    registration_rules: tuple[RegistrationRule, ...]

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.roles))

    def has_role(self, name: str) -> bool:
        return name in self.roles

    def role(self, name: str) -> Role:
        """The role called ``name``; ``KeyError`` when the policy has none by that name."""
        return self.roles[name]

    @property
    def default(self) -> Role:
        """The role of an account with no assignment."""
        return self.roles[self.default_role]

    def registration_rule_for(
        self, *, email: str | None = None, sso_attributes: Mapping[str, Any] | None = None
    ) -> RegistrationRule | None:
        """The first registration rule that matches, if any."""
        return next((rule for rule in self.registration_rules
                     if rule.matches(email, sso_attributes)), None)

    def role_for_registration(
        self, *, email: str | None = None, sso_attributes: Mapping[str, Any] | None = None
    ) -> Role:
        """The role the first matching registration rule picks, else the default role."""
        rule = self.registration_rule_for(email=email, sso_attributes=sso_attributes)
        return self.roles[rule.role] if rule else self.default

    def effective_permissions(self, role_name: str) -> dict[str, Any]:
        """JSON of what ``role_name`` may do and how fast (for the API, the bot, the docs)."""
        return self.role(role_name).as_dict()


# --- parsing -----------------------------------------------------------------------------


def _mapping(raw: Any, path: str, allowed: Iterable[str]) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise PolicyError(path, _got(raw, "a mapping"))
    known = tuple(allowed)
    for key in raw:
        if key not in known:
            raise PolicyError(f"{path}.{key}" if path else str(key),
                              f"unknown key, expected one of {', '.join(known)}")
    return raw


def _bool(raw: Any, path: str) -> bool:
    if not isinstance(raw, bool):
        raise PolicyError(path, _got(raw, "true or false"))
    return raw


def _positive_number(raw: Any, path: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not raw > 0:
        raise PolicyError(path, _got(raw, "a positive number"))
    return float(raw)


def _positive_int(raw: Any, path: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
        raise PolicyError(path, _got(raw, "a positive integer"))
    return raw


def parse_size(raw: Any, path: str) -> int:
    """A size in bytes: an integer, or a string such as 512K, 50M or 2G (powers of 1024)."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return raw
    if isinstance(raw, str) and (match := SIZE.match(raw.strip())) and int(match.group(1)) > 0:
        return int(match.group(1)) * SIZE_UNITS[match.group(2).upper()]
    raise PolicyError(path, _got(raw, "a positive size such as 512K, 50M or 2G"))


def _optional(raw: Any, path: str, parse: Callable[[Any, str], T]) -> T | None:
    return None if raw is None else parse(raw, path)


def _strings(raw: Any, path: str, what: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
        raise PolicyError(path, _got(raw, f"a list of {what}"))
    return tuple(raw)


def _rate_limit(raw: Any, path: str) -> RateLimit | None:
    if raw is None or raw == "unlimited":
        return None
    if not isinstance(raw, Mapping):
        raise PolicyError(path, _got(raw, "a mapping with per_second and burst, or unlimited"))
    section = _mapping(raw, path, ("per_second", "burst"))
    for key in ("per_second", "burst"):
        if key not in section:
            raise PolicyError(f"{path}.{key}", "missing, expected a positive number")
    return RateLimit(
        per_second=_positive_number(section["per_second"], f"{path}.per_second"),
        burst=_positive_int(section["burst"], f"{path}.burst"),
    )


def _media(raw: Any, path: str) -> MediaPermissions:
    section = _mapping(raw, path, ("upload", "max_upload_size", "quota", "allowed_types"))
    types = section.get("allowed_types")
    return MediaPermissions(
        allowed_types=None if types is None else _strings(
            types, f"{path}.allowed_types", 'MIME types or globs ("image/*", "video/mp4")'),
        upload=_bool(section.get("upload", False), f"{path}.upload"),
        max_upload_size=_optional(section.get("max_upload_size"), f"{path}.max_upload_size",
                                  parse_size),
        quota=_optional(section.get("quota"), f"{path}.quota", parse_size),
    )


def _ai(raw: Any, path: str) -> AiPermissions:
    section = _mapping(raw, path, ("enabled", "models", "daily_token_budget",
                                   "daily_usd_budget", "monthly_usd_budget"))
    return AiPermissions(
        enabled=_bool(section.get("enabled", False), f"{path}.enabled"),
        models=_strings(section.get("models", []), f"{path}.models",
                        'model names or globs ("gpt-4o*", "*")'),
        daily_token_budget=_optional(section.get("daily_token_budget"),
                                     f"{path}.daily_token_budget", _positive_int),
        daily_usd_budget=_optional(section.get("daily_usd_budget"),
                                   f"{path}.daily_usd_budget", _positive_number),
        monthly_usd_budget=_optional(section.get("monthly_usd_budget"),
                                     f"{path}.monthly_usd_budget", _positive_number),
    )


PERMISSION_FLAGS = ("create_rooms", "create_public_rooms", "publish_to_directory", "invite",
                    "join_public_rooms", "join_remote_rooms")


def _permissions(raw: Any, path: str) -> Permissions:
    section = _mapping(raw, path, (*PERMISSION_FLAGS, "send_state_events", "media", "ai"))
    flags = {key: _bool(section.get(key, False), f"{path}.{key}") for key in PERMISSION_FLAGS}
    return Permissions(
        **flags,
        send_state_events=_strings(section.get("send_state_events", []),
                                   f"{path}.send_state_events", 'event types or globs ("*")'),
        media=_media(section.get("media"), f"{path}.media"),
        ai=_ai(section.get("ai"), f"{path}.ai"),
    )


def _rate_limits(raw: Any, path: str) -> RateLimits:
    section = _mapping(raw, path, LIMITERS)
    return RateLimits(**{name: _rate_limit(section.get(name), f"{path}.{name}")
                         for name in LIMITERS})


def _deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(merged.get(key), Mapping) and isinstance(value, Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve_extends(raw_roles: Mapping[str, Any], name: str, seen: tuple[str, ...]
                     ) -> dict[str, Any]:
    path = f"roles.{name}"
    raw = _mapping(raw_roles[name], path, ("description", "extends", "permissions",
                                           "rate_limits"))
    parent = raw.get("extends")
    if parent is None:
        return dict(raw)
    if not isinstance(parent, str) or parent not in raw_roles:
        raise PolicyError(f"{path}.extends",
                          _got(parent, f"one of {', '.join(sorted(raw_roles))}"))
    if parent in seen:
        raise PolicyError(f"{path}.extends",
                          _got(parent, "a role that does not extend this one (a cycle)"))
    inherited = _resolve_extends(raw_roles, parent, (*seen, name))
    inherited.pop("description", None)
    own = {k: v for k, v in raw.items() if k != "extends"}
    return _deep_merge(inherited, own)


def _role(name: str, raw: Mapping[str, Any]) -> Role:
    path = f"roles.{name}"
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise PolicyError(f"{path}.description", _got(description, "a string"))
    return Role(
        name=name,
        description=description,
        permissions=_permissions(raw.get("permissions"), f"{path}.permissions"),
        rate_limits=_rate_limits(raw.get("rate_limits"), f"{path}.rate_limits"),
    )


def _role_name(raw: Any, path: str, roles: Mapping[str, Role]) -> str:
    if not isinstance(raw, str) or raw not in roles:
        raise PolicyError(path, _got(raw, f"one of {', '.join(sorted(roles))}"))
    return raw


def _rule(raw: Any, path: str, roles: Mapping[str, Role]) -> RegistrationRule:
    section = _mapping(raw, path, ("role", "email_domains", "sso_attribute", "sso_values"))
    if "role" not in section:
        raise PolicyError(f"{path}.role", f"missing, expected one of {', '.join(sorted(roles))}")
    domains = _strings(section.get("email_domains", []), f"{path}.email_domains",
                       "e-mail domains such as example.org")
    attribute = section.get("sso_attribute")
    if attribute is not None and (not isinstance(attribute, str) or not attribute):
        raise PolicyError(f"{path}.sso_attribute", _got(attribute, "an attribute name"))
    values = _strings(section.get("sso_values", []), f"{path}.sso_values", "attribute values")
    if attribute and not values:
        raise PolicyError(f"{path}.sso_values", "missing, expected the values that match")
    if not domains and not attribute:
        raise PolicyError(path, "nothing to match, expected email_domains or sso_attribute")
    return RegistrationRule(
        role=_role_name(section["role"], f"{path}.role", roles),
        email_domains=tuple(d.lower().lstrip("@") for d in domains),
        sso_attribute=attribute,
        sso_values=values,
    )


def parse_policy(raw: Any) -> Policy:
    """Validate a policy already read from YAML; ``PolicyError`` names the first problem."""
    top = _mapping(raw, "", ("version", "default_role", "guest_role", "registration_rules",
                             "roles"))
    version = top.get("version", 1)
    if version != 1:
        raise PolicyError("version", _got(version, "1"))
    raw_roles = top.get("roles")
    if not isinstance(raw_roles, Mapping) or not raw_roles:
        raise PolicyError("roles", _got(raw_roles, "a mapping of role names to roles"))
    for name in raw_roles:
        if not isinstance(name, str) or not ROLE_NAME.fullmatch(name):
            raise PolicyError(f"roles.{name}", _got(name, "a role name of lowercase letters, "
                                                          "digits, '_' or '-'"))
    roles = {name: _role(name, _resolve_extends(raw_roles, name, ())) for name in raw_roles}
    if "default_role" not in top:
        raise PolicyError("default_role", f"missing, expected one of {', '.join(sorted(roles))}")
    default_role = _role_name(top["default_role"], "default_role", roles)
    guest_role = top.get("guest_role")
    if guest_role is not None:
        guest_role = _role_name(guest_role, "guest_role", roles)
    raw_rules = top.get("registration_rules", [])
    if not isinstance(raw_rules, list):
        raise PolicyError("registration_rules", _got(raw_rules, "a list of rules"))
    rules = tuple(_rule(r, f"registration_rules[{i}]", roles) for i, r in enumerate(raw_rules))
    return Policy(
        roles=MappingProxyType(roles),
        default_role=default_role,
        guest_role=guest_role,
        registration_rules=rules,
    )


def load_policy(path: str | Path) -> Policy:
    """Read and validate the policy file at ``path``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError("(file)", f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = str(exc).replace("\n", " ")
        raise PolicyError("(file)", f"invalid YAML in {file}: {problem}") from None
    return parse_policy(raw)
