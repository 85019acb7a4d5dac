"""Supervisor: Prometheus metrics say which processes are up, restarting and optional."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hearth.supervisor_metrics import serve_supervisor_metrics
from tests.harness.ports import free_port
from tests.unit.hearth.supervised import FakeClock, supervisor_after_one_bot_failure


def _samples(text: str) -> dict[tuple[str, str], float]:
    return {(sample.name, sample.labels["process"]): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_show_a_failing_optional_process(tmp_path: Path) -> None:
    """The crashing optional process is down with its restarts; the essential one is up."""
    sup = supervisor_after_one_bot_failure(tmp_path, FakeClock())
    port = free_port()
    stop = serve_supervisor_metrics(sup.snapshot, "127.0.0.1", port)
    try:
        samples = _samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
    finally:
        stop()
        sup.stop_all()
    assert samples[("hearth_process_up", "synapse")] == 1
    assert samples[("hearth_process_up", "bot")] == 0
    assert samples[("hearth_process_restarts_total", "bot")] == 1
    assert samples[("hearth_process_restarts_total", "synapse")] == 0
    assert samples[("hearth_process_optional", "bot")] == 1
    assert samples[("hearth_process_optional", "synapse")] == 0
    assert samples[("hearth_process_last_exit_code", "bot")] == 3
