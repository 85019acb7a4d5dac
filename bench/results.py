"""Raw results of a run as JSON in ``bench/results/`` (git-ignored), for later comparison."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from bench.machine import Machine
from bench.options import Options
from bench.runner import ScenarioResult

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def save(results: Sequence[ScenarioResult], options: Options, machine: Machine,
         key: str) -> Path:
    """Write options, machine facts, metrics and every raw sample; the file's path."""
    payload = {
        "options": dataclasses.asdict(options),
        "machine": dataclasses.asdict(machine),
        "scenarios": {
            r.scenario.name: {
                server: {
                    "metrics": [dataclasses.asdict(m) for m in r.metrics[server]],
                    "sample": dataclasses.asdict(r.samples[server]),
                }
                for server in r.samples
            }
            for r in results
        },
    }
    stamp = machine.date.replace(" UTC", "").replace(" ", "T").replace(":", "")
    path = RESULTS_DIR / f"{stamp}-{key.replace(':', '-')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, allow_nan=True) + "\n", encoding="utf-8")
    return path
