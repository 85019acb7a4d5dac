"""The scenarios. To add one: a module here with a ``Scenario`` subclass decorated with
``@register`` (from ``bench.scenarios.registry``), imported below; a media scenario
(``--suite media``) is a ``MediaScenario`` decorated with ``@register_in("media")``."""

from __future__ import annotations

from bench.scenarios.base import Metric, Sample, Scenario
from bench.scenarios.registry import REGISTRY, register, select

# Built-in scenarios, in the order they run and appear in the table.
# isort: off
from bench.scenarios import send_latency
from bench.scenarios import delivery_latency
from bench.scenarios import throughput
from bench.scenarios import media_upload
from bench.scenarios import media_download
from bench.scenarios import media_processing
from bench.scenarios import media_dedup
# isort: on

__all__ = ["REGISTRY", "Metric", "Sample", "Scenario", "delivery_latency", "media_dedup",
           "media_download", "media_processing", "media_upload", "register", "select",
           "send_latency", "throughput"]
