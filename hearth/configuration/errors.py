"""Config problems, phrased one way: the path of the bad key, what was given, what is expected.

Synapse's module loader catches its own ``ConfigError`` from a module's ``parse_config`` and
prints it with the module's name, so every module config (and the bot's) raises that class,
imported here and nowhere else: ``synapse.config`` is its public home (the module API's
``synapse.module_api.errors.ConfigError`` is the same class, but costs a second to import).
Hearth's own settings raise ``SettingsError`` with the same description of the problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from synapse.config import ConfigError

__all__ = ["ConfigError", "SettingsError", "config_error", "describe", "key_path"]

# Keys whose value an error message shows as '***'.
SECRET_KEYS = frozenset({"password", "smtp_pass", "api_key", "password_pepper", "secret"})


class SettingsError(ValueError):
    """A settings problem, already phrased as one line for the person running the command."""


def key_path(prefix: str, loc: Sequence[str | int]) -> str:
    """``lockout.window``, ``trusted_proxies[0]``: a location as the person writes the key."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for a bad mapping key; the key names it
            path = f"{path}.{part}" if path else str(part)
    return path


def _problem(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "missing, expected a value"
    message = error["msg"].removeprefix("Value error, ")
    message = message[0].lower() + message[1:]
    value = error.get("input")
    if isinstance(value, Mapping):
        return message
    names = [part for part in error["loc"] if isinstance(part, str)]
    if names and names[-1] in SECRET_KEYS:
        return f"got '***', {message}"
    return f"got {value!r}, {message}"


def describe(error: ValidationError, prefix: str = "") -> tuple[str, str]:
    """The first problem of ``error``: (path of the key under ``prefix``, what is wrong)."""
    first = error.errors()[0]
    return key_path(prefix, first["loc"]), _problem(first)


def config_error(path: str, problem: str) -> ConfigError:
    """Synapse's ConfigError, as one line naming the key: ``Error in configuration at ...``."""
    return ConfigError(f"Error in configuration at '{path or '(top level)'}': {problem}")
