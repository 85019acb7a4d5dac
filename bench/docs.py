"""Keep ``docs/benchmarks.md`` up to date: each run replaces only its own marked section."""

from __future__ import annotations

from pathlib import Path

HEADER = """\
# Benchmarks

`make bench` (the `bench/` package) starts vanilla Synapse, configured by its own
`--generate-config`, and our Synapse, configured by `hearth run` from `homeserver.yaml.j2`
with our modules, side by side on the same machine, and drives both with the same client
load from one asyncio process on 127.0.0.1. Both get the same rate-limit raise, so that
load tests measure the server rather than its limiter: Synapse's message, registration and
login limiters on both, and on ours also every per-role limit of the access policy (a copy
of `config/policy.yaml` with its limits raised, so the module still runs its checks).
Nothing else of the vanilla config is changed beyond the loopback listener, and the
database when PostgreSQL is chosen.

How to read the tables: latencies are in milliseconds, lower is better, so a ratio
ours/vanilla below 1.00 means ours is faster; for messages/s higher is better. Each
scenario alternates between the servers in rounds (vanilla → ours, ours → vanilla, ...),
so noise from the machine hits both alike. "Other processes used N% of the machine's CPU"
says how busy anything else kept the machine while measuring: the higher it is, the
more inflated the absolute figures; the ratios hold up better. Differences of a few percent,
and any p99 difference, are within run-to-run noise on a small machine.

Each section below is written by the run that produced it, between its
`<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` markers; a new run replaces its
own section and keeps everything else. Later scenarios add their own sections.
Options: `python -m bench --help`. Raw samples of each run: `bench/results/` (not in git).
"""


def markers(key: str) -> tuple[str, str]:
    """The start and end marker comments of a section."""
    return f"<!-- bench:{key}:start -->", f"<!-- bench:{key}:end -->"


def replace_section(text: str, key: str, body: str) -> str:
    """``text`` with the section ``key`` set to ``body`` (appended when it is new)."""
    start, end = markers(key)
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text and end in text.split(start, 1)[1]:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        return before + block + after
    return text.rstrip("\n") + "\n\n" + block + "\n"


def write_section(path: Path, key: str, body: str) -> None:
    """Create the file with its header if needed, then set the section."""
    text = path.read_text(encoding="utf-8") if path.is_file() else HEADER
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_section(text, key, body), encoding="utf-8")
