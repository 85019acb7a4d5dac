"""``python -m bench --suite media``: vanilla Synapse's media against ours, in one run.

Starts the servers the chosen media scenarios need (vanilla; ours on the dev profile; ours
with object storage on the S3 stand-in; ours behind the nginx media edge), runs the scenarios
(bench/scenarios/media_*.py) in alternating rounds, prints the table and writes its section
of docs/benchmarks.md. Object storage that cannot start does not stop the run: the
scenarios that need it are left out and the section says why.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import docs, machine, media_report, postgres, results
from bench.cpu import OtherLoad
from bench.matrix import open_session
from bench.media_client import Bucket, MediaEndpoint
from bench.media_options import MediaOptions
from bench.media_runner import run_scenarios
from bench.media_servers import MediaEdge, OursMedia, S3StandIn, VanillaMedia
from bench.options import reproduce_command
from bench.postgres import Database, DatabaseError, temporary_database
from bench.runner import ScenarioError, ScenarioResult
from bench.scenarios import select
from bench.scenarios.media_base import OURS, OURS_EDGE, OURS_S3, SERVERS, VANILLA, MediaScenario
from bench.servers import StartError
from devtools.ports import free_port

NOISY_SHARE = 0.10
BUCKETS = {OURS_S3: "hearth-bench-media", OURS_EDGE: "hearth-bench-edge"}
FAILURES = (StartError, DatabaseError, ScenarioError, RuntimeError, OSError)


@dataclass
class Running:
    """What runs for the scenarios: the servers by name, and what object storage needs."""

    servers: dict[str, VanillaMedia | OursMedia] = field(default_factory=dict)
    s3: S3StandIn | None = None
    edge: MediaEdge | None = None
    databases: list[Database] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def store_pids(self) -> tuple[int, ...]:
        return tuple(p for p in (self.s3.pid if self.s3 else None,
                                 self.edge.pid if self.edge else None) if p is not None)

    def pids(self) -> set[int]:
        """Ours: the servers, the S3 stand-in, the edge, their database backends."""
        found = {p for s in self.servers.values() if (p := s.pid) is not None}
        found |= set(self.store_pids())
        if self.databases:
            found |= set(postgres.backend_pids([d.name for d in self.databases]))
        return found


def needed(scenarios: Sequence[MediaScenario[Any]]) -> list[str]:
    """The servers the scenarios run on, in table order."""
    wanted = {name for s in scenarios for name in s.servers}
    return [name for name in SERVERS if name in wanted]


def _start(stack: ExitStack, running: Running, server: VanillaMedia | OursMedia,
           log: Callable[[str], None]) -> None:
    log(f"starting {server.name} on {server.base_url} (data: {server.data_dir})")
    stack.callback(server.stop)
    server.start()
    running.servers[server.name] = server


def _database(stack: ExitStack, running: Running, options: MediaOptions,
              name: str) -> Database | None:
    if options.database != "postgres":
        return None
    database = stack.enter_context(temporary_database(f"hearth_bench_media_{name}"))
    running.databases.append(database)
    return database


def _start_object_storage(stack: ExitStack, running: Running, root: Path, edge_dir: Path,
                          names: list[str], options: MediaOptions,
                          log: Callable[[str], None]) -> None:
    """The S3 stand-in, the edge and ours on them; a failure is noted, not raised."""
    try:
        s3 = S3StandIn(root / "s3")
        stack.callback(s3.stop)
        s3.start()
        running.s3 = s3
        log(f"S3 stand-in on {s3.endpoint_url}")
        if OURS_S3 in names:
            settings = s3.settings(s3.bucket(BUCKETS[OURS_S3]))
            _start(stack, running, OursMedia(OURS_S3, root / OURS_S3, free_port(),
                                             _database(stack, running, options, "s3"),
                                             settings), log)
    except FAILURES as exc:
        log(f"object storage did not start: {exc}")
        running.notes.append(f"Not measured: everything on object storage, which did not "
                             f"start ({type(exc).__name__}: {str(exc).splitlines()[0]}).")
        return
    if OURS_EDGE not in names:
        return
    try:
        bucket = s3.bucket(BUCKETS[OURS_EDGE], public=True)
        edge = MediaEdge(edge_dir, s3.endpoint_url, bucket)
        stack.callback(edge.stop)
        edge.start()
        running.edge = edge
        log(f"media edge on {edge.base_url}")
        _start(stack, running, OursMedia(OURS_EDGE, root / OURS_EDGE, free_port(),
                                         _database(stack, running, options, "edge"),
                                         (*s3.settings(bucket), *edge.server_settings())), log)
    except FAILURES as exc:
        log(f"the media edge did not start: {exc}")
        running.notes.append(f"Not measured: the media edge, which did not start "
                             f"({type(exc).__name__}: {str(exc).splitlines()[0]}).")


@contextmanager
def started(root: Path, edge_dir: Path, names: list[str], options: MediaOptions,
            log: Callable[[str], None]) -> Iterator[Running]:
    """The servers ``names`` asks for, running; all stopped on exit."""
    with ExitStack() as stack:
        running = Running()
        if VANILLA in names:
            _start(stack, running, VanillaMedia(root / VANILLA, free_port(),
                                                _database(stack, running, options, "vanilla")),
                   log)
        if OURS in names:
            _start(stack, running, OursMedia(OURS, root / OURS, free_port(),
                                             _database(stack, running, options, "ours")), log)
        if OURS_S3 in names or OURS_EDGE in names:
            _start_object_storage(stack, running, root, edge_dir, names, options, log)
        yield running
        log("stopping the servers")


def endpoints(running: Running, files_dir: Path) -> list[MediaEndpoint]:
    """One endpoint per running server, in table order."""
    found = []
    for name in SERVERS:
        server = running.servers.get(name)
        if server is None:
            continue
        bucket = None
        if name in BUCKETS and running.s3 is not None:
            bucket = Bucket(BUCKETS[name], running.s3.api.client())
        found.append(MediaEndpoint(
            name, server.base_url, server.shared_secret, open_session(),
            metrics_url=server.metrics_url if isinstance(server, OursMedia) else None,
            media_store=server.media_store, bucket=bucket,
            server_roots=(server.pid,) if server.pid is not None else (),
            store_roots=running.store_pids() if bucket is not None else (),
            files_dir=files_dir))
    return found


def _cpu_s() -> float:
    times = os.times()
    return times.user + times.system


async def measure(running: Running, scenarios: Sequence[MediaScenario[Any]],
                  options: MediaOptions, files_dir: Path,
                  log: Callable[[str], None]) -> tuple[list[ScenarioResult], float, float]:
    """The results, the other processes' share of the CPU, the load generator's (of one
    CPU)."""
    targets = endpoints(running, files_dir)
    meter = OtherLoad(running.pids)
    started_at, cpu = time.perf_counter(), _cpu_s()
    try:
        found = await run_scenarios(targets, scenarios, meter, options, log)
    finally:
        for endpoint in targets:
            await endpoint.session.close()
    client = (_cpu_s() - cpu) / (time.perf_counter() - started_at)
    return found, meter.overall, client


def section_key(options: MediaOptions) -> str:
    """``media:sqlite`` for the whole suite, else the scenario names run."""
    suite = "+".join(options.scenarios) if options.scenarios else "media"
    return f"{suite}:{options.database}"


def _scenarios(options: MediaOptions) -> list[MediaScenario[Any]]:
    try:
        chosen = select(options.scenarios, "media")
    except KeyError as exc:
        raise ScenarioError(str(exc.args[0])) from exc
    return [s for s in chosen if isinstance(s, MediaScenario)]


def run(options: MediaOptions, output: Path | None, keep_data: bool,
        log: Callable[[str], None]) -> int:
    """Start, measure, stop; print the table, save the raw results, write the docs section."""
    scenarios = _scenarios(options)
    run_started = time.monotonic()
    facts = machine.describe(options.database)
    root = Path(tempfile.mkdtemp(prefix="hearth-bench-media-"))
    # nginx's workers (nobody) must enter the edge's cache directory: not under the 0700 root.
    edge_dir = Path(tempfile.mkdtemp(prefix="hearth-bench-edge-"))
    edge_dir.chmod(0o755)
    measured: tuple[list[ScenarioResult], float, float] | None = None
    notes: list[str] = []
    try:
        with started(root, edge_dir, needed(scenarios), options, log) as running:
            notes = running.notes
            measured = asyncio.run(measure(running, scenarios, options, root / "files", log))
    finally:
        if measured is not None and not keep_data:
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(edge_dir, ignore_errors=True)
        else:
            log(f"server data kept in {root} (edge: {edge_dir})")
    found, other_load, client = measured
    facts = dataclasses.replace(facts, other_load=other_load)
    if other_load > NOISY_SHARE:
        log(f"warning: other processes used {other_load:.0%} of the CPU while measuring; "
            "the absolute figures are inflated (the ratios less so)")
    minutes = (time.monotonic() - run_started) / 60
    log(f"the whole run took {minutes:.1f} min")
    notes = [*notes, f"The load generator (one asyncio process) used {client:.0%} of one CPU "
                     f"on average while measuring, on the same {facts.cpus} CPUs. The whole "
                     f"run (making the files, starting the servers, measuring) took "
                     f"{minutes:.1f} min."]
    key = section_key(options)
    log(f"raw results: {results.save(found, options, facts, key)}")
    table = media_report.rows(found)
    print(media_report.text_table(table))
    if output is not None:
        docs.write_section(output, key, media_report.markdown_section(found, options, facts,
                                                                      notes))
        log(f"wrote section {key} of {output}")
    print(f"\nreproduce: {reproduce_command(options)}")
    return 0

