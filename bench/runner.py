"""Run the scenarios on both servers in alternating rounds, so machine noise hits both."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx

from bench import postgres
from bench.cpu import OtherLoad
from bench.matrix import Endpoint, MatrixError, open_session
from bench.options import Options
from bench.scenarios import Metric, Sample, Scenario
from bench.servers import ServerProcess

# A pause before each measured round, so one server's leftover background work
# (cache flushes, stream updates) does not land in the other's round.
SETTLE_S = 1.0


class ScenarioError(RuntimeError):
    """A scenario failed on one server; the message says which, where and why."""


@dataclass(frozen=True)
class ScenarioResult:
    """What one scenario measured, per server name."""

    scenario: Scenario[Any]
    samples: dict[str, Sample]
    metrics: dict[str, list[Metric]]


@dataclass(frozen=True)
class Measured:
    """All scenario results, and how busy other processes kept the machine meanwhile."""

    results: list[ScenarioResult]
    other_load: float


def _client_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


@contextmanager
def _failing_as(scenario: Scenario[Any], endpoint: Endpoint, step: str) -> Iterator[None]:
    """Turn a client-side failure into a ScenarioError that names the scenario and server."""
    try:
        yield
    except (MatrixError, aiohttp.ClientError, httpx.HTTPError, TimeoutError, RuntimeError) as exc:
        raise ScenarioError(
            f"{scenario.name} failed on {endpoint.name} ({step}): {type(exc).__name__}: {exc}"
        ) from exc


def _our_pids(servers: Sequence[ServerProcess]) -> set[int]:
    """The servers' processes and, on PostgreSQL, the backends serving their databases."""
    pids = {pid for s in servers if (pid := s.pid) is not None}
    databases = [s.database.name for s in servers if s.database is not None]
    return pids | set(postgres.backend_pids(databases)) if databases else pids


def round_order(count: int, round_index: int) -> list[int]:
    """Server indexes for one round: A B, then B A, and so on (ABBA)."""
    order = list(range(count))
    return order if round_index % 2 == 0 else order[::-1]


async def _run_scenario(scenario: Scenario[Any], endpoints: Sequence[Endpoint],
                        meter: OtherLoad, options: Options,
                        log: Callable[[str], None]) -> ScenarioResult:
    fixtures = []
    for endpoint in endpoints:
        log(f"{scenario.name}: preparing {endpoint.name}")
        with _failing_as(scenario, endpoint, "preparing"):
            fixtures.append(await scenario.prepare(endpoint, options))
    samples = {endpoint.name: Sample() for endpoint in endpoints}
    started, cpu = time.perf_counter(), _client_cpu_s()
    for round_index in range(options.rounds):
        for index in round_order(len(endpoints), round_index):
            endpoint = endpoints[index]
            await asyncio.sleep(SETTLE_S)
            meter.start()
            with _failing_as(scenario, endpoint, f"round {round_index + 1}"):
                sample = await scenario.measure(fixtures[index], options, round_index)
            log(f"{scenario.name}: round {round_index + 1}/{options.rounds} {endpoint.name}: "
                f"{sample.ok} ok, {sample.failed} failed; other processes took "
                f"{meter.stop():.0%} of the CPU")
            samples[endpoint.name].add(sample)
    busy = (_client_cpu_s() - cpu) / (time.perf_counter() - started)
    log(f"{scenario.name}: the load generator used {busy:.0%} of one CPU while measuring")
    metrics = {name: scenario.summarize(sample) for name, sample in samples.items()}
    return ScenarioResult(scenario, samples, metrics)


async def run_scenarios(servers: Sequence[ServerProcess], scenarios: Sequence[Scenario[Any]],
                        options: Options, log: Callable[[str], None]) -> Measured:
    """Every scenario on every (already started) server."""
    endpoints = [Endpoint(s.name, s.base_url, s.shared_secret, open_session()) for s in servers]
    meter = OtherLoad(lambda: _our_pids(servers))
    try:
        results = [await _run_scenario(s, endpoints, meter, options, log) for s in scenarios]
        return Measured(results, meter.overall)
    finally:
        for endpoint in endpoints:
            await endpoint.session.close()
