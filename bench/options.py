"""What one benchmark run does: sizes, database, rounds; and the command that repeats it."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, fields, replace
from typing import Literal

Engine = Literal["sqlite", "postgres"]


@dataclass(frozen=True)
class Options:
    """Sizes of a run. Latency counts and the throughput duration are totals per server,
    split evenly over ``rounds`` alternating rounds."""

    database: Engine = "sqlite"
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


# Option name on the command line for each field, in the order they are printed.
FLAGS = {
    "database": "--database",
    "messages": "--messages",
    "warmup": "--warmup",
    "duration_s": "--duration",
    "senders": "--senders",
    "rooms": "--rooms",
    "rounds": "--rounds",
}


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def bench_args(options: Options) -> list[str]:
    """The command-line arguments that select ``options`` (defaults left out)."""
    default = Options()
    args: list[str] = []
    for field in fields(Options):
        value = getattr(options, field.name)
        if field.name == "scenarios":
            for name in value:
                args += ["--scenario", name]
        elif value != getattr(default, field.name):
            args += [FLAGS[field.name], _text(value)]
    return args


def reproduce_command(options: Options) -> str:
    """``make bench`` with the ``BENCH_ARGS`` that repeat this run."""
    args = bench_args(options)
    if not args:
        return "make bench"
    return f'make bench BENCH_ARGS="{shlex.join(args)}"'
