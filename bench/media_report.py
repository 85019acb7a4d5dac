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
from bench.scenarios.media_base import OURS, OURS_EDGE, OURS_S3, SERVERS, VANILLA

LABELS = {VANILLA: "vanilla", OURS: "ours", OURS_S3: "ours, S3", OURS_EDGE: "ours, S3 + edge"}
# Ratio columns: (numerator, denominator, header).
RATIOS = ((OURS, VANILLA, "ours/vanilla"), (OURS_S3, VANILLA, "ours S3/vanilla"))


@dataclass(frozen=True)
class Row:
    """One metric of one scenario, per server that measured it."""

    scenario: str
    metric: str
    values: dict[str, float]
    decimals: int


def rows(results: Sequence[ScenarioResult]) -> list[Row]:
    """Scenario by scenario, metrics in the order the servers' summaries give them."""
    table: list[Row] = []
    for result in results:
        order: dict[str, int] = {}
        values: dict[str, dict[str, float]] = {}
        for server in SERVERS:
            for metric in result.metrics.get(server, []):
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


def verdicts(table: Sequence[Row]) -> list[str]:
    """The issue's goals, met or not, from the worst processing time ours measured."""
    found = []
    goals = (("media large image", "orientation 1 processing max (ms)", "12 MP JPEG", 1000.0),
             ("media large image", "orientation 6 processing max (ms)", "12 MP JPEG", 1000.0),
             ("media video", "video processing max (ms)", "100 MB video", 5000.0))
    for scenario, metric, what, goal_ms in goals:
        worst = max((_value(table, scenario, metric, s) for s in (OURS, OURS_S3)),
                    key=lambda v: v if math.isfinite(v) else -1.0)
        if math.isfinite(worst):
            verdict = "met" if worst <= goal_ms else "missed"
            found.append(f"- {what} ({metric.split(' processing')[0]}): worst processing "
                         f"{worst / 1000:.2f} s against a goal of {goal_ms / 1000:g} s: "
                         f"**{verdict}**.")
    return found


SETUP = (
    "Four servers side by side: vanilla Synapse (its generated config); ours, `hearth run` on "
    "the dev profile with every module and the media pipeline, files in the local media store; "
    "ours with `media.storage: s3` on a bucket of moto's S3 server "
    "(devtools/s3_server.py, a separate process on loopback), so `allow_redirect=true` answers "
    "with a presigned URL; and the same with `media.download.cdn_base_url` pointing at the "
    "nginx media edge in front of its bucket. All have `max_upload_size` 200M (both "
    "defaults are 50M, below the video) and the core suite's rate-limit raise (ours also the "
    "raised access policy, whose `media_uploads` limit would otherwise refuse the load). "
    "The scanner (`media.scan`) is off, as in the dev profile. A scenario runs on the servers "
    "it applies to (— where it does not), alternating between them over the rounds."
)


def markdown_section(results: Sequence[ScenarioResult], options: MediaOptions,
                     machine: Machine, notes: Sequence[str]) -> str:
    """The docs section of one media run."""
    database = "PostgreSQL" if options.database == "postgres" else "SQLite"
    table = rows(results)
    servers = [LABELS[s] for s in columns(table)]
    order = "; ".join(" → ".join(servers[i] for i in round_order(len(servers), r))
                      for r in range(options.rounds))
    lines = [
        f"## Media: uploads, downloads, processing, dedup, edge cache ({database})",
        "",
        f"Measured {machine.line()}.",
        f"{SETUP} Rounds: {options.rounds} ({order}, each scenario on its own servers).",
        "",
        markdown_table(table),
        "",
        *(f"- **{r.scenario.title}**: {r.scenario.describe(options)}." for r in results),
        "",
        *verdicts(table),
        *(f"- {note}" for note in notes),
        "",
        f"Reproduce: `{reproduce_command(options)}`",
    ]
    return "\n".join(lines)
