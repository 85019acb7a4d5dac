"""One loader for every config source: YAML files, environment variables and ``--set``.

Sources merge in order, later ones winning; nested mappings merge key by key, anything else
replaces. Hearth's settings read ``HEARTH__SECTION__KEY`` variables, the bot
``HEARTH_AI__SECTION__KEY``; values from the environment and ``--set`` are read as YAML
(``3`` is a number, ``[a, b]`` a list). A broken source raises ``SettingsError`` naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from hearth.configuration.errors import SettingsError


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``extra`` into a copy of ``base``; nested mappings merge, anything else replaces."""
    merged = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def _nest(parts: list[str], value: Any) -> dict[str, Any]:
    nested: dict[str, Any] = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        nested = {part: nested}
    return nested


def _yaml_value(raw: str) -> Any:
    try:
        return yaml.safe_load(raw) if raw else ""
    except yaml.YAMLError:
        return raw


def parse_assignment(text: str) -> dict[str, Any]:
    """Turn ``section.key=value`` into a nested mapping; the value is read as YAML."""
    key, sep, raw = text.partition("=")
    parts = [p for p in key.strip().split(".") if p]
    if not sep or not parts:
        raise SettingsError(f"Invalid --set {text!r}: expected section.key=value")
    return _nest(parts, _yaml_value(raw))


def from_environment(environ: Mapping[str, str], prefix: str) -> dict[str, Any]:
    """Collect ``<prefix>SECTION__KEY=value`` variables into a nested mapping."""
    collected: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(prefix):
            continue
        parts = [p.lower() for p in name[len(prefix):].split("__") if p]
        if not parts:
            raise SettingsError(f"Invalid environment variable {name!r}: expected "
                                f"{prefix}SECTION__KEY")
        collected = deep_merge(collected, _nest(parts, _yaml_value(raw)))
    return collected


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; say which file is wrong if it does not."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"Cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"Invalid YAML in {path}: {exc}".replace("\n", " ")) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise SettingsError(f"Invalid file {path}: expected a mapping at the top level")
    return loaded


def load_sources(
    base: Mapping[str, Any],
    files: Iterable[Path] = (),
    environ: Mapping[str, str] | None = None,
    env_prefix: str = "",
    assignments: Iterable[str] = (),
) -> dict[str, Any]:
    """``base``, then each file, then the environment, then each ``--set``, merged in order."""
    merged = dict(base)
    for path in files:
        merged = deep_merge(merged, read_yaml_mapping(path))
    if environ is not None and env_prefix:
        merged = deep_merge(merged, from_environment(environ, env_prefix))
    for assignment in assignments:
        merged = deep_merge(merged, parse_assignment(assignment))
    return merged
