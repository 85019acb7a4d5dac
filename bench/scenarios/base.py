"""What a scenario is: prepare per server, measure in rounds, summarize into metrics."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Generic, Literal, TypeVar

from bench.matrix import Endpoint
from bench.options import Options
from bench.stats import percentile, split

FixtureT = TypeVar("FixtureT")


@dataclass
class Sample:
    """Raw observations of one server, added up over the rounds."""

    latencies_ms: list[float] = field(default_factory=list)
    ok: int = 0
    failed: int = 0
    seconds: float = 0.0

    def add(self, other: Sample) -> None:
        self.latencies_ms += other.latencies_ms
        self.ok += other.ok
        self.failed += other.failed
        self.seconds += other.seconds


@dataclass(frozen=True)
class Metric:
    """One number of the results table."""

    name: str
    value: float
    better: Literal["lower", "higher"]
    decimals: int = 1


def latency_metrics(sample: Sample, label: str = "") -> list[Metric]:
    """p50/p95/p99 of the latencies, in milliseconds."""
    prefix = f"{label} " if label else ""
    return [
        Metric(f"{prefix}p{q} (ms)", percentile(sample.latencies_ms, q), "lower")
        for q in (50, 95, 99)
    ]


def rate(count: int, seconds: float) -> float:
    """Events per second, NaN when no time was measured."""
    return count / seconds if seconds > 0 else math.nan


class Scenario(ABC, Generic[FixtureT]):
    """A measurement run on each server in turn.

    ``prepare`` runs once per server (accounts, rooms, warm-up) and is not timed;
    ``measure`` runs once per round and server, alternating the servers; ``summarize``
    turns the pooled ``Sample`` of one server into table rows.
    """

    name: ClassVar[str]

    @property
    def title(self) -> str:
        """The name as the report writes it."""
        return self.name.replace("_", " ")

    @abstractmethod
    async def prepare(self, endpoint: Endpoint, options: Options) -> FixtureT:
        """Set up on one server; the fixture is handed to every ``measure`` there."""

    @abstractmethod
    async def measure(self, fixture: FixtureT, options: Options, round_index: int) -> Sample:
        """One round on one server; sizes are ``options`` totals split over the rounds."""

    @abstractmethod
    def summarize(self, sample: Sample) -> list[Metric]:
        """The table rows for one server."""

    def describe(self, options: Options) -> str:
        """One line on what the scenario did, for the docs."""
        return self.title


class SequentialLatency(Scenario[FixtureT]):
    """Messages timed one after another: ``options.warmup`` untimed ones once per server, then
    ``options.messages`` split over the rounds, reported as p50/p95/p99."""

    @abstractmethod
    async def setup(self, endpoint: Endpoint) -> FixtureT:
        """The accounts and the room of one server."""

    @abstractmethod
    async def timed(self, fixture: FixtureT, count: int) -> list[float]:
        """Send ``count`` messages one at a time; each one's latency in ms."""

    async def prepare(self, endpoint: Endpoint, options: Options) -> FixtureT:
        fixture = await self.setup(endpoint)
        await self.timed(fixture, options.warmup)
        return fixture

    async def measure(self, fixture: FixtureT, options: Options, round_index: int) -> Sample:
        latencies = await self.timed(fixture, split(options.messages, options.rounds,
                                                    round_index))
        return Sample(latencies_ms=latencies, ok=len(latencies))

    def summarize(self, sample: Sample) -> list[Metric]:
        return latency_metrics(sample)
