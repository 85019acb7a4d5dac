"""Checks between the settings and what they refer to, made by ``hearth render``.

Each setting is valid on its own by the time these run; what is checked here is that they
agree with each other and with the files they point at, so ``hearth render`` and ``hearth
check-config`` refuse a deployment before anything starts, instead of Synapse or the bot
refusing (or, worse, silently ignoring) a value later:

- roles named by ``login_security.mfa_required_roles`` and ``login_security.ip_rules`` exist
  in the access policy file (a typo there would silently turn required MFA off);
- the bot's rendered config (``ai_bot.*`` with ``ai_bot.bot_config`` merged in) is a valid
  ``BotConfig``, its models are in the model catalogue and its roles exist;
- no two listeners of the deployment (Synapse, workers, metrics, the bot) share a port.

Every problem is a ``SettingsError`` naming the setting to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hearth.ai_bot.config import BotConfig, with_environment
from hearth.ai_bot.llm.catalogue import Catalogue, UnknownModelError
from hearth.configuration.errors import ConfigError, SettingsError, describe
from hearth.settings import Settings
from hearth.synapse_modules.access_policy.policy import PolicyError, load_policy

# Roles login_security knows without the access policy: server admins are always ``admin``,
# everyone else ``member`` (synapse_modules/login_security/roles.py).
LOGIN_SECURITY_BUILT_IN_ROLES = ("admin",)
LOGIN_SECURITY_ROLES_WITHOUT_POLICY = ("admin", "member")

# Bot config keys rendered from an ``ai_bot`` setting of their own.
BOT_KEYS_FROM_SETTINGS = {
    "localpart": "ai_bot.localpart",
    "displayname": "ai_bot.displayname",
    "metrics_port": "ai_bot.metrics_port",
    "model.default": "ai_bot.default_model",
    "model.endpoint.base_url": "ai_bot.base_url",
    "model.endpoint.api_key_path": "ai_bot.api_key_file",
}


def _refuse(setting: str, problem: str) -> SettingsError:
    return SettingsError(f"Invalid setting '{setting}': {problem}")


class PolicyRoles:
    """The access policy's role names, read from its file once and only when asked for."""

    def __init__(self, settings: Settings, project_dir: Path) -> None:
        self._enabled = settings.modules.access_policy
        self._path = project_dir / settings.modules.access_policy_file
        self._names: tuple[str, ...] | None = None

    @property
    def enabled(self) -> bool:
        return self._enabled

    def names(self) -> tuple[str, ...]:
        """Role names of the policy file; a file that does not load names the setting."""
        if self._names is None:
            try:
                self._names = load_policy(self._path).role_names
            except PolicyError as exc:
                raise _refuse("modules.access_policy_file", f"{exc} (in {self._path})") from None
        return self._names


def check_login_security_roles(settings: Settings, policy: PolicyRoles) -> None:
    """Every role login_security names must be one the policy (or the module) can assign."""
    if not settings.modules.login_security:
        return
    ls = settings.login_security
    named = [(f"login_security.mfa_required_roles[{i}]", role)
             for i, role in enumerate(ls.mfa_required_roles)]
    named += [(f"login_security.ip_rules.{role}", role) for role in ls.ip_rules]
    if not named:
        return
    if policy.enabled:
        known = sorted({*policy.names(), *LOGIN_SECURITY_BUILT_IN_ROLES})
        where = "a role of the access policy (modules.access_policy_file)"
    else:
        known = sorted(LOGIN_SECURITY_ROLES_WITHOUT_POLICY)
        where = "a role login_security knows without the access policy"
    for setting, role in named:
        if role not in known:
            raise _refuse(setting, f"got {role!r}, expected {where}: {', '.join(known)}")


def _bot_setting(path: str, overrides: Mapping[str, Any]) -> str:
    """The setting that produced ``path`` of the rendered bot config."""
    for key, setting in BOT_KEYS_FROM_SETTINGS.items():
        if (path == key or path.startswith((key + ".", key + "["))) and not _given(overrides, key):
            return setting
    return f"ai_bot.bot_config.{path}"


def _given(overrides: Mapping[str, Any], dotted: str) -> bool:
    node: Any = overrides
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def check_bot_config(settings: Settings, rendered: Mapping[str, Any]) -> BotConfig:
    """The rendered bot config parses as the bot will parse it, and its references resolve."""
    overrides = settings.ai_bot.bot_config
    try:
        config = BotConfig.model_validate(with_environment(rendered))
    except ValidationError as exc:
        path, problem = describe(exc)
        raise _refuse(_bot_setting(path, overrides), problem) from None
    try:
        catalogue = Catalogue.load(config.model.catalogue)
    except ConfigError as exc:
        raise _refuse("ai_bot.bot_config.model.catalogue", str(exc)) from None
    models = [("model.default", config.model.default)]
    if config.model.fallback.model is not None:
        models.append(("model.fallback.model", config.model.fallback.model))
    for path, model in models:
        try:
            catalogue.get(model)
        except UnknownModelError as exc:
            raise _refuse(_bot_setting(path, overrides), str(exc)) from None
    return config


def check_ports_distinct(ports: Iterable[tuple[str, int, str]]) -> None:
    """Two listeners on one port: the second would fail to start, so refuse now."""
    seen: dict[int, str] = {}
    for _host, port, setting in ports:
        earlier = seen.setdefault(port, setting)
        if earlier != setting:
            raise _refuse(setting, f"port {port} is already {earlier}'s; choose another port")
