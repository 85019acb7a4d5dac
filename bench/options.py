"""What one benchmark run does: sizes, database, rounds; and the command that repeats it."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from typing import ClassVar, Literal

Engine = Literal["sqlite", "postgres"]


@dataclass(frozen=True)
class RunOptions:
    """What a run of either suite has: the database; and, from ``SUITE`` and ``FLAGS``, the
    command-line arguments that select it."""

    SUITE: ClassVar[tuple[str, ...]] = ()
    # Option name on the command line for each size, in the order they are printed.
    FLAGS: ClassVar[dict[str, str]]

    database: Engine = "sqlite"

    def args(self) -> list[str]:
        """The command-line arguments that select this run (defaults left out)."""
        default, args = type(self)(), list(self.SUITE)
        for name, flag in self.FLAGS.items():
            value = getattr(self, name)
            if value != getattr(default, name):
                args += [flag, _text(value)]
        return args


@dataclass(frozen=True)
class Options(RunOptions):
    """Sizes of a core run. Latency counts and the throughput duration are totals per server,
    split evenly over ``rounds`` alternating rounds."""

    FLAGS: ClassVar[dict[str, str]] = {
        "database": "--database",
        "messages": "--messages",
        "warmup": "--warmup",
        "duration_s": "--duration",
        "senders": "--senders",
        "rooms": "--rooms",
        "rounds": "--rounds",
    }

    messages: int = 300
    warmup: int = 20
    duration_s: float = 20.0
    senders: int = 50
    rooms: int = 10
    rounds: int = 4
    scenarios: tuple[str, ...] = ()

    def quick(self) -> Options:
        """Small numbers for a smoke run."""
        return replace(self, messages=40, warmup=5, duration_s=4.0, senders=10, rooms=3,
                       rounds=2)

    def args(self) -> list[str]:
        return [*super().args(), *(arg for name in self.scenarios for arg in ("--scenario", name))]


@dataclass(frozen=True)
class AiOptions(RunOptions):
    """Sizes of an AI-bot run (``--suite ai_bot``)."""

    SUITE: ClassVar[tuple[str, ...]] = ("--suite", "ai_bot")
    FLAGS: ClassVar[dict[str, str]] = {
        "database": "--database", "prompts": "--prompts", "warmup": "--warmup",
        "conversations": "--conversations", "tokens": "--tokens",
        "tokens_per_second": "--token-rate",
    }

    prompts: int = 50
    warmup: int = 5
    conversations: int = 100
    tokens: int = 300
    tokens_per_second: float = 50.0

    def quick(self) -> AiOptions:
        """Small numbers for a smoke run."""
        return AiOptions(self.database, prompts=10, warmup=2, conversations=10, tokens=100)


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def reproduce_command(options: RunOptions) -> str:
    """``make bench`` with the ``BENCH_ARGS`` that repeat this run."""
    args = options.args()
    if not args:
        return "make bench"
    return f'make bench BENCH_ARGS="{shlex.join(args)}"'
