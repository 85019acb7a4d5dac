"""The scenario registry: scenarios register themselves by name, in the order they run."""

from __future__ import annotations

from typing import Any, TypeVar

from bench.scenarios.base import Scenario

REGISTRY: dict[str, Scenario[Any]] = {}

ScenarioT = TypeVar("ScenarioT", bound=type[Scenario[Any]])


def register(cls: ScenarioT) -> ScenarioT:
    """Class decorator: make the scenario runnable by name, in registration order."""
    if cls.name in REGISTRY:
        raise ValueError(f"scenario {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls()
    return cls


def select(names: tuple[str, ...]) -> list[Scenario[Any]]:
    """The scenarios named (all, in registry order, when none are)."""
    if not names:
        return list(REGISTRY.values())
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise KeyError(f"unknown scenario {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    return [REGISTRY[n] for n in REGISTRY if n in names]
