"""The scenario registry. To add one: a module here with a ``Scenario`` subclass decorated
with ``@register``, imported at the bottom of this file."""

from __future__ import annotations

from typing import Any, TypeVar

from bench.scenarios.base import Metric, Sample, Scenario

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


# Built-in scenarios, in the order they run and appear in the table.
# isort: off
from bench.scenarios import send_latency  # noqa: E402
from bench.scenarios import delivery_latency  # noqa: E402
from bench.scenarios import throughput  # noqa: E402
# isort: on

__all__ = ["REGISTRY", "Metric", "Sample", "Scenario", "delivery_latency", "register", "select",
           "send_latency", "throughput"]
