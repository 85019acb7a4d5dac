"""The scenarios. To add one: a module here with a ``Scenario`` subclass decorated with
``@register`` (from ``bench.scenarios.registry``), imported below."""

from __future__ import annotations

from bench.scenarios.base import Metric, Sample, Scenario
from bench.scenarios.registry import REGISTRY, register, select

# Built-in scenarios, in the order they run and appear in the table.
# isort: off
from bench.scenarios import send_latency
from bench.scenarios import delivery_latency
from bench.scenarios import throughput
# isort: on

__all__ = ["REGISTRY", "Metric", "Sample", "Scenario", "delivery_latency", "register", "select",
           "send_latency", "throughput"]
