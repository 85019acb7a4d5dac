"""The results table (ours against vanilla), as plain text and as a Markdown section."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.machine import Machine
from bench.options import Options, reproduce_command
from bench.runner import ScenarioResult, round_order

HEADERS = ("scenario", "metric", "vanilla", "ours", "ours/vanilla")
BASELINE = "vanilla"
CANDIDATE = "ours"


@dataclass(frozen=True)
class Row:
    """One metric of one scenario on both servers."""

    scenario: str
    metric: str
    vanilla: float
    ours: float
    decimals: int

    @property
    def ratio(self) -> float:
        if not (math.isfinite(self.vanilla) and math.isfinite(self.ours)) or self.vanilla == 0:
            return math.nan
        return self.ours / self.vanilla

    def cells(self, first_of_scenario: bool) -> tuple[str, ...]:
        return (self.scenario if first_of_scenario else "", self.metric,
                _number(self.vanilla, self.decimals), _number(self.ours, self.decimals),
                _number(self.ratio, 2))


def _number(value: float, decimals: int) -> str:
    return "—" if not math.isfinite(value) else f"{value:.{decimals}f}"


def rows(results: Sequence[ScenarioResult]) -> list[Row]:
    """Table rows, scenario by scenario, metrics in the order the scenario gives them."""
    table: list[Row] = []
    for result in results:
        pairs = zip(result.metrics[BASELINE], result.metrics[CANDIDATE], strict=True)
        for vanilla, ours in pairs:
            table.append(Row(result.scenario.title, vanilla.name, vanilla.value, ours.value,
                             vanilla.decimals))
    return table


def _cell_rows(table: Sequence[Row]) -> list[tuple[str, ...]]:
    cells: list[tuple[str, ...]] = []
    for index, row in enumerate(table):
        first = index == 0 or table[index - 1].scenario != row.scenario
        cells.append(row.cells(first))
    return cells


def text_table(table: Sequence[Row]) -> str:
    """Aligned columns for the terminal, numbers right-aligned."""
    cells = [HEADERS, *_cell_rows(table)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(HEADERS))]

    def line(row: Sequence[str]) -> str:
        left = [row[i].ljust(widths[i]) for i in range(2)]
        right = [row[i].rjust(widths[i]) for i in range(2, len(row))]
        return "  ".join(left + right).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def markdown_table(table: Sequence[Row]) -> str:
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|---|---|---:|---:|---:|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in _cell_rows(table)]
    return "\n".join(lines)


def markdown_section(results: Sequence[ScenarioResult], options: Options,
                     machine: Machine) -> str:
    """The docs section of one run: when and where, the table, what each scenario did, how to
    repeat it."""
    database = "PostgreSQL" if options.database == "postgres" else "SQLite"
    names = ", ".join(r.scenario.title for r in results)
    suite = "" if options.scenarios else "Core: "
    servers = (BASELINE, CANDIDATE)
    order = "; ".join(
        " → ".join(servers[i] for i in round_order(len(servers), r)) for r in range(options.rounds)
    )
    lines = [
        f"## {suite}{names} ({database})",
        "",
        f"Measured {machine.line()}.",
        f"Both servers ran side by side; each scenario alternated between them over "
        f"{options.rounds} rounds ({order}), the totals below split evenly over the rounds.",
        "",
        markdown_table(rows(results)),
        "",
        *(f"- **{r.scenario.title}**: {r.scenario.describe(options)}." for r in results),
        "",
        f"Reproduce: `{reproduce_command(options)}`",
    ]
    return "\n".join(lines)
