"""Run the media scenarios in alternating rounds, each on the servers it applies to.

Like the core runner (bench/runner.py: the same ABBA order, settling pause and CPU meter), but
a scenario runs only on the servers its ``servers`` names (a redirect needs object storage)
and its samples are ``MediaSample``s, whose named series the core runner would drop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import aiohttp

from bench.cpu import OtherLoad
from bench.matrix import MatrixError
from bench.media_client import MediaEndpoint
from bench.options import Options
from bench.runner import SETTLE_S, ScenarioError, ScenarioResult, round_order
from bench.scenarios.base import Sample
from bench.scenarios.media_base import MediaSample, MediaScenario


@contextmanager
def _failing_as(scenario: MediaScenario[Any], endpoint: MediaEndpoint,
                step: str) -> Iterator[None]:
    """A client-side failure as a ScenarioError naming the scenario, server and step."""
    try:
        yield
    except (MatrixError, aiohttp.ClientError, TimeoutError, RuntimeError, OSError) as exc:
        raise ScenarioError(
            f"{scenario.name} failed on {endpoint.name} ({step}): {type(exc).__name__}: {exc}"
        ) from exc


async def run_scenario(scenario: MediaScenario[Any], endpoints: Sequence[MediaEndpoint],
                       meter: OtherLoad, options: Options,
                       log: Callable[[str], None]) -> ScenarioResult | None:
    """The scenario on those of ``endpoints`` it applies to; None when it applies to none."""
    chosen = [e for e in endpoints if e.name in scenario.servers]
    if not chosen:
        log(f"{scenario.name}: none of its servers ({', '.join(scenario.servers)}) runs")
        return None
    fixtures = []
    for endpoint in chosen:
        log(f"{scenario.name}: preparing {endpoint.name}")
        with _failing_as(scenario, endpoint, "preparing"):
            fixtures.append(await scenario.prepare(endpoint, options))
    samples: dict[str, Sample] = {e.name: MediaSample() for e in chosen}
    for round_index in range(options.rounds):
        for index in round_order(len(chosen), round_index):
            endpoint = chosen[index]
            await asyncio.sleep(SETTLE_S)
            meter.start()
            started = time.perf_counter()
            with _failing_as(scenario, endpoint, f"round {round_index + 1}"):
                sample = await scenario.measure(fixtures[index], options, round_index)
            log(f"{scenario.name}: round {round_index + 1}/{options.rounds} {endpoint.name}: "
                f"{sample.ok} ok, {sample.failed} failed in "
                f"{time.perf_counter() - started:.1f} s; other processes took "
                f"{meter.stop():.0%} of the CPU")
            samples[endpoint.name].add(sample)
    metrics = {name: scenario.summarize(sample) for name, sample in samples.items()}
    return ScenarioResult(scenario, samples, metrics)


async def run_scenarios(endpoints: Sequence[MediaEndpoint],
                        scenarios: Sequence[MediaScenario[Any]], meter: OtherLoad,
                        options: Options, log: Callable[[str], None]) -> list[ScenarioResult]:
    """Every scenario, in order, on its servers."""
    results = []
    for scenario in scenarios:
        result = await run_scenario(scenario, endpoints, meter, options, log)
        if result is not None:
            results.append(result)
    return results
