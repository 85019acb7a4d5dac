"""The scenario registry: scenarios register themselves by name, in the order they run.

Each suite has its own registry: ``core`` (``REGISTRY``, what ``make bench`` runs) and
``media`` (``--suite media``, bench/media_suite.py). Names are unique across suites, since
``--scenario`` takes them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bench.scenarios.base import Scenario

REGISTRY: dict[str, Scenario[Any]] = {}
SUITES: dict[str, dict[str, Scenario[Any]]] = {"core": REGISTRY, "media": {}}

ScenarioT = TypeVar("ScenarioT", bound=type[Scenario[Any]])


def register_in(suite: str) -> Callable[[ScenarioT], ScenarioT]:
    """Class decorator: make the scenario runnable by name in ``suite``, in registration
    order."""

    def register_scenario(cls: ScenarioT) -> ScenarioT:
        if any(cls.name in registry for registry in SUITES.values()):
            raise ValueError(f"scenario {cls.name!r} registered twice")
        SUITES[suite][cls.name] = cls()
        return cls

    return register_scenario


def register(cls: ScenarioT) -> ScenarioT:
    """Class decorator: a scenario of the core suite."""
    return register_in("core")(cls)


def all_names() -> list[str]:
    """Every registered scenario name, suite by suite."""
    return [name for registry in SUITES.values() for name in registry]


def select(names: tuple[str, ...], suite: str = "core") -> list[Scenario[Any]]:
    """The scenarios of ``suite`` named (all, in registry order, when none are)."""
    registry = SUITES[suite]
    if not names:
        return list(registry.values())
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise KeyError(f"unknown {suite} scenario {', '.join(unknown)}; "
                       f"known: {', '.join(registry)}")
    return [registry[n] for n in registry if n in names]
