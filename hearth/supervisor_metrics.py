"""Prometheus metrics of the supervisor: which processes are up and how often they restarted.

Synapse's own metrics die with the process that serves them; these come from ``hearth run``
itself, so a bot (or any optional process) stuck in a restart loop is visible to an alert.
The values are read from the supervisor at each scrape, so they are never stale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hearth.supervisor_status import ProcessStatus

# name, help, family type, value for one process (None: no sample).
_SERIES: tuple[tuple[str, str, type[GaugeMetricFamily | CounterMetricFamily],
                     Callable[[ProcessStatus], float | None]], ...] = (
    ("hearth_process_up", "1 while the process runs, 0 while it waits to be restarted",
     GaugeMetricFamily, lambda p: 1.0 if p.state == "running" else 0.0),
    ("hearth_process_restarts", "Times the supervisor restarted the process",
     CounterMetricFamily, lambda p: float(p.restarts)),
    ("hearth_process_optional", "1 when the deployment keeps running without the process",
     GaugeMetricFamily, lambda p: 1.0 if p.optional else 0.0),
    ("hearth_process_last_exit_code", "Exit status of the process's last exit (-N: signal N)",
     GaugeMetricFamily, lambda p: None if p.last_exit_code is None else float(p.last_exit_code)),
)


class SupervisorCollector(Collector):
    """One sample per process per series, from ``snapshot``."""

    def __init__(self, snapshot: Callable[[], tuple[ProcessStatus, ...]]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        """The process metrics as they are now."""
        statuses = self._snapshot()
        for name, documentation, family_type, value_of in _SERIES:
            family = family_type(name, documentation, labels=["process"])
            for status in statuses:
                value = value_of(status)
                if value is not None:
                    family.add_metric([status.name], value)
            yield family


def serve_supervisor_metrics(snapshot: Callable[[], tuple[ProcessStatus, ...]], host: str,
                             port: int) -> Callable[[], None]:
    """Serve the metrics on ``host:port`` (any path); returns the function that stops it."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(SupervisorCollector(snapshot))
    server, thread = start_http_server(port, addr=host, registry=registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
