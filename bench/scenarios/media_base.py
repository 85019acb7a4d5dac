"""What the media scenarios share: the servers they can run on, a sample with named series,
and the options and endpoint types of the media suite."""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from bench.matrix import Endpoint
from bench.media_client import MediaEndpoint, media_endpoint
from bench.media_options import MediaOptions
from bench.options import Options
from bench.scenarios.base import Metric, Sample, Scenario
from bench.stats import percentile

FixtureT = TypeVar("FixtureT")

# The servers of a media run, in the order of the table's columns.
VANILLA = "vanilla"
OURS = "ours"  # our dev profile: local media store
OURS_S3 = "ours+s3"  # object storage; redirects to the bucket's presigned URLs
OURS_EDGE = "ours+edge"  # object storage; redirects to the nginx media edge
SERVERS = (VANILLA, OURS, OURS_S3, OURS_EDGE)
UPLOADERS = (VANILLA, OURS, OURS_S3)


@dataclass
class MediaSample(Sample):
    """A ``Sample`` with named series of numbers (CPU seconds, bytes, processing times...)."""

    series: dict[str, list[float]] = field(default_factory=dict)

    def record(self, name: str, value: float) -> None:
        self.series.setdefault(name, []).append(value)

    def values(self, name: str) -> list[float]:
        return self.series.get(name, [])

    def total(self, name: str) -> float:
        return sum(self.values(name))

    def add(self, other: Sample) -> None:
        super().add(other)
        if isinstance(other, MediaSample):
            for name, values in other.series.items():
                self.series.setdefault(name, []).extend(values)


def media_sample(sample: Sample) -> MediaSample:
    if not isinstance(sample, MediaSample):
        raise TypeError("the media scenarios summarize MediaSamples")
    return sample


def media_options(options: Options) -> MediaOptions:
    if not isinstance(options, MediaOptions):
        raise TypeError("the media scenarios run with MediaOptions")
    return options


def spread(values: list[float], label: str, unit: str = "ms",
           quantiles: tuple[int, ...] = (50, 95)) -> list[Metric]:
    """Percentiles of ``values`` as table rows ("upload p50 (ms)", ...)."""
    return [Metric(f"{label} p{q} ({unit})", percentile(values, q), "lower") for q in quantiles]


def median_max(values: list[float], label: str, unit: str = "ms") -> list[Metric]:
    """Median and maximum, for the few large uploads where a p95 would mean nothing."""
    top = max(values) if values else math.nan
    return [Metric(f"{label} median ({unit})", percentile(values, 50), "lower"),
            Metric(f"{label} max ({unit})", top, "lower")]


class MediaScenario(Scenario[FixtureT]):
    """A scenario of the media suite: it runs on the servers ``servers`` names, gets
    ``MediaEndpoint``s and ``MediaOptions``, and returns ``MediaSample``s."""

    servers: ClassVar[tuple[str, ...]] = UPLOADERS

    async def prepare(self, endpoint: Endpoint, options: Options) -> FixtureT:
        return await self.prepare_media(media_endpoint(endpoint), media_options(options))

    async def measure(self, fixture: FixtureT, options: Options, round_index: int) -> Sample:
        return await self.measure_media(fixture, media_options(options), round_index)

    def summarize(self, sample: Sample) -> list[Metric]:
        return self.summarize_media(media_sample(sample))

    def describe(self, options: Options) -> str:
        return self.describe_media(media_options(options))

    @abstractmethod
    async def prepare_media(self, endpoint: MediaEndpoint, options: MediaOptions) -> FixtureT:
        """Accounts and files on one server (untimed)."""

    @abstractmethod
    async def measure_media(self, fixture: FixtureT, options: MediaOptions,
                            round_index: int) -> MediaSample:
        """One round on one server."""

    @abstractmethod
    def summarize_media(self, sample: MediaSample) -> list[Metric]:
        """The rows of one server."""

    @abstractmethod
    def describe_media(self, options: MediaOptions) -> str:
        """What the scenario did, for the docs."""
