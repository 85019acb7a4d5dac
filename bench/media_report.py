"""The media suite's table: one column per server that ran (vanilla, ours, ours with object
storage, ours behind the media edge) and ours against vanilla; as text and as Markdown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.machine import Machine
from bench.media_options import MediaOptions
from bench.options import reproduce_command
from bench.runner import ScenarioResult, round_order
from bench.scenarios.media_base import OURS, OURS_EDGE, OURS_S3, SERVERS, UPLOADERS, VANILLA

LABELS = {VANILLA: "vanilla", OURS: "ours", OURS_S3: "ours (S3)",
          OURS_EDGE: "ours (S3 + edge)"}
# Ratio columns: (numerator, denominator, header).
RATIOS = ((OURS, VANILLA, "ours/vanilla"), (OURS_S3, VANILLA, "ours (S3)/vanilla"))


@dataclass(frozen=True)
class Row:
    """One metric of one scenario, per server that measured it."""

    scenario: str
    metric: str
    values: dict[str, float]
    decimals: int


def rows(results: Sequence[ScenarioResult]) -> list[Row]:
    """Scenario by scenario, metrics in the order the summaries give them (the server with the
    most rows first: some rows exist only where a server measures them)."""
    table: list[Row] = []
    for result in results:
        order: dict[str, int] = {}
        values: dict[str, dict[str, float]] = {}
        ran = [s for s in SERVERS if s in result.metrics]
        for server in sorted(ran, key=lambda s: -len(result.metrics[s])):
            for metric in result.metrics[server]:
                order.setdefault(metric.name, metric.decimals)
                values.setdefault(metric.name, {})[server] = metric.value
        table += [Row(result.scenario.title, name, values[name], decimals)
                  for name, decimals in order.items()]
    return table


def columns(table: Sequence[Row]) -> list[str]:
    """The servers that measured anything, in table order."""
    present = {server for row in table for server in row.values}
    return [server for server in SERVERS if server in present]


def _ratios(servers: Sequence[str]) -> list[tuple[str, str, str]]:
    return [r for r in RATIOS if r[0] in servers and r[1] in servers]


def _number(value: float | None, decimals: int) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.{decimals}f}"


def _ratio(row: Row, numerator: str, denominator: str) -> str:
    top, bottom = row.values.get(numerator), row.values.get(denominator)
    if top is None or bottom is None or not (math.isfinite(top) and math.isfinite(bottom)):
        return "—"
    return "—" if bottom == 0 else f"{top / bottom:.2f}"


def _cells(table: Sequence[Row]) -> tuple[list[str], list[list[str]]]:
    servers = columns(table)
    ratios = _ratios(servers)
    headers = ["scenario", "metric", *(LABELS[s] for s in servers), *(r[2] for r in ratios)]
    body = []
    for index, row in enumerate(table):
        first = index == 0 or table[index - 1].scenario != row.scenario
        body.append([row.scenario if first else "", row.metric,
                     *(_number(row.values.get(s), row.decimals) for s in servers),
                     *(_ratio(row, top, bottom) for top, bottom, _ in ratios)])
    return headers, body


def text_table(table: Sequence[Row]) -> str:
    """Aligned columns for the terminal, numbers right-aligned."""
    headers, body = _cells(table)
    cells = [headers, *body]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        left = [row[i].ljust(widths[i]) for i in range(2)]
        right = [row[i].rjust(widths[i]) for i in range(2, len(row))]
        return "  ".join(left + right).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in body)])


def markdown_table(table: Sequence[Row]) -> str:
    headers, body = _cells(table)
    align = ["---", "---", *(["---:"] * (len(headers) - 2))]
    return "\n".join("| " + " | ".join(r) + " |" for r in [headers, align, *body])


def _value(table: Sequence[Row], scenario: str, metric: str, server: str) -> float:
    for row in table:
        if row.scenario == scenario and row.metric == metric:
            return row.values.get(server, math.nan)
    return math.nan


def verdicts(table: Sequence[Row], options: MediaOptions) -> list[str]:
    """The issue's goals, met or not, from the worst processing time ours measured."""
    found = []
    goals = (("media large image", "orientation 1", "12 MP JPEG, EXIF orientation 1", 1.0),
             ("media large image", "orientation 6", "12 MP JPEG, EXIF orientation 6", 1.0),
             ("media video", "video", f"{options.video_mb} MB video", 5.0))
    for scenario, label, what, goal_s in goals:
        worst = max((_value(table, scenario, f"{label} processing max (ms)", s)
                     for s in (OURS, OURS_S3)), key=lambda v: v if math.isfinite(v) else -1.0)
        if math.isfinite(worst):
            verdict = "met" if worst <= goal_s * 1000 else "missed"
            found.append(f"- {what}: our processing took {worst / 1000:.2f} s at worst, "
                         f"against a goal of {goal_s:g} s: **{verdict}**.")
    return found


def observations(table: Sequence[Row]) -> list[str]:
    """What the table says about the cost of an upload, in server CPU."""
    per_cpu_s = {s: _value(table, "media upload throughput", "uploads per server CPU-second", s)
                 for s in UPLOADERS}
    known = {s: 1000 / v for s, v in per_cpu_s.items() if math.isfinite(v) and v > 0}
    if VANILLA not in known or len(known) < 2:
        return []
    costs = ", ".join(f"{LABELS[s]} {ms:.0f} ms" for s, ms in known.items())
    return [f"- Server CPU per 100 KB upload under load (1 / uploads per server CPU-second): "
            f"{costs}. On ours every image is decoded and cleaned in a fresh sandboxed Python "
            f"process (docs/media.md, step 6), and Synapse still makes its own thumbnails; "
            f"100 uploads/s would take about "
            + ", ".join(f"{100 * ms / 1000:.1f} cores ({LABELS[s]})" for s, ms in known.items())
            + " of server CPU alone."]


SERVER_TEXT = {
    VANILLA: "vanilla Synapse (its generated config)",
    OURS: ("ours: `hearth run` on the dev profile with every module and the media pipeline, "
           "files in the local media store"),
    OURS_S3: ("ours (S3): the same with `media.storage: s3` on a bucket of moto's S3 server "
              "(devtools/s3_server.py, its own process on loopback), so "
              "`allow_redirect=true` answers with the bucket's presigned URL; moto and its "
              "Python front share the machine's CPUs, where a real bucket would cost network "
              "time instead"),
    OURS_EDGE: ("ours (S3 + edge): the same on another bucket, with "
                "`media.download.cdn_base_url` pointing at the nginx media edge in front of it"),
}
COMMON = (
    "All have `max_upload_size` 200M (both defaults are 50M, below the video) and the core "
    "suite's rate-limit raise (ours also the raised access policy, whose `media_uploads` limit "
    "would otherwise refuse the load). The scanner (`media.scan`) is off, as in the dev "
    "profile. Each scenario runs on the servers it applies to (— where it does not), "
    "alternating between them over the rounds."
)
NUMBERS = ["", "One server", "Two servers", "Three servers", "Four servers"]


def setup(servers: Sequence[str]) -> str:
    """Which servers ran and how they were configured."""
    return (f"{NUMBERS[len(servers)]} side by side: "
            + "; ".join(SERVER_TEXT[s] for s in servers) + ". " + COMMON)


def markdown_section(results: Sequence[ScenarioResult], options: MediaOptions,
                     machine: Machine, notes: Sequence[str]) -> str:
    """The docs section of one media run."""
    database = "PostgreSQL" if options.database == "postgres" else "SQLite"
    table = rows(results)
    servers = columns(table)
    labels = [LABELS[s] for s in servers]
    order = "; ".join(" → ".join(labels[i] for i in round_order(len(labels), r))
                      for r in range(options.rounds))
    lines = [
        f"## Media: uploads, downloads, processing, dedup, edge cache ({database})",
        "",
        f"Measured {machine.line()}.",
        f"{setup(servers)} Rounds: {options.rounds} ({order}, each scenario on its own "
        f"servers).",
        "",
        markdown_table(table),
        "",
        *(f"- **{r.scenario.title}**: {r.scenario.describe(options)}." for r in results),
        "",
        *verdicts(table, options),
        *observations(table),
        *(f"- {note}" for note in notes),
        "",
        f"Reproduce: `{reproduce_command(options)}`",
    ]
    return "\n".join(lines)
