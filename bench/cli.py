"""``python -m bench``: start both servers, run the scenarios, print and record the table."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType

from bench import ai_bot, docs, machine, media_options, media_suite, report, results
from bench.options import AiOptions, Options, reproduce_command
from bench.postgres import Database, DatabaseError, temporary_database
from bench.runner import Measured, ScenarioError, run_scenarios
from bench.scenarios import select
from bench.scenarios.registry import SUITES, all_names
from bench.servers import OursServer, ServerProcess, StartError, VanillaServer
from devtools.ports import free_port
from hearth.render import PROJECT_DIR

DEFAULT_OUTPUT = PROJECT_DIR / "docs" / "benchmarks.md"
# Above this share of the CPU used by other processes, the run is flagged as noisy.
NOISY_SHARE = 0.10


def log(message: str) -> None:
    """Progress on stderr, so stdout carries only the table."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Options; sizes left unset fall back to the defaults (or the --quick ones)."""
    defaults = Options()
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark vanilla Synapse against our configured Synapse, side by side.",
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default=None,
                        help="database of both servers; postgres uses 127.0.0.1:5432 as user "
                        "postgres (default: sqlite)")
    _sizes(parser, (
        ("--messages", _positive_int, "timed messages per latency scenario", defaults.messages),
        ("--warmup", int, "untimed messages first", defaults.warmup),
        ("--duration", _positive_float, "seconds of throughput load per server",
         defaults.duration_s),
        ("--senders", _positive_int, "concurrent senders for throughput", defaults.senders),
        ("--rooms", _positive_int, "rooms the senders spread over", defaults.rooms),
        ("--rounds", _positive_int, "alternating rounds the totals are split over",
         defaults.rounds),
    ))
    parser.add_argument("--scenario", dest="scenarios", action="append", default=[],
                        choices=all_names(), help="run only this scenario (repeatable)")
    parser.add_argument("--quick", action="store_true",
                        help="small numbers for a smoke run; writes no docs unless --output")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"Markdown file to write the results section into "
                        f"(default {DEFAULT_OUTPUT.relative_to(PROJECT_DIR)})")
    parser.add_argument("--no-write", action="store_true",
                        help="only print the table")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the servers' data directories (config, logs) afterwards")
    ai = parser.add_argument_group("AI bot suite (--suite ai_bot; our server only)")
    ai.add_argument("--suite", choices=("core", "ai_bot", "media"), default="core",
                    help="core: vanilla against ours (default); ai_bot: the AI bot's added "
                    "latency and concurrent streaming, against a fake model; media: "
                    "vanilla's media against ours (bench/media_suite.py)")
    ai_defaults = AiOptions()
    _sizes(ai, (
        ("--prompts", _positive_int, "timed sequential prompts", ai_defaults.prompts),
        ("--conversations", _positive_int, "concurrent conversations",
         ai_defaults.conversations),
        ("--tokens", _positive_int, "tokens per streamed answer", ai_defaults.tokens),
        ("--token-rate", _positive_float, "tokens/s of each streamed answer",
         ai_defaults.tokens_per_second),
    ))
    media_options.add_arguments(parser)
    return parser


def _sizes(group: argparse._ActionsContainer,
           sizes: tuple[tuple[str, Callable[[str], float], str, float], ...]) -> None:
    """Options that override one size each; unset (None) means the default, shown in help."""
    for flag, kind, meaning, default in sizes:
        group.add_argument(flag, type=kind, default=None, help=f"{meaning} (default {default:g})")


def ai_options_from(args: argparse.Namespace) -> AiOptions:
    """Defaults, then --quick, then whatever was given explicitly, for --suite ai_bot."""
    options = AiOptions().quick() if args.quick else AiOptions()
    given = {
        "database": args.database, "prompts": args.prompts, "warmup": args.warmup,
        "conversations": args.conversations, "tokens": args.tokens,
        "tokens_per_second": args.token_rate,
    }
    return replace(options, **{k: v for k, v in given.items() if v is not None})


def main_ai_bot(args: argparse.Namespace) -> int:
    """``--suite ai_bot``: see bench/ai_bot.py."""
    options = ai_options_from(args)
    return exit_status(lambda: ai_bot.run(options, output_path(args), args.keep_data, log),
                       "processes", (StartError, DatabaseError, RuntimeError))


def main_media(args: argparse.Namespace) -> int:
    """``--suite media``: see bench/media_suite.py."""
    options = media_options.options_from(args)
    return exit_status(lambda: media_suite.run(options, output_path(args), args.keep_data, log),
                       "servers", media_suite.FAILURES)


def exit_status(run: Callable[[], int], stopped: str,
                expected: tuple[type[Exception], ...]) -> int:
    """``run``'s exit status; 130 after Ctrl-C (or SIGTERM), 1 with one line for an expected
    failure: a benchmark that cannot run says why, without a traceback."""
    try:
        return run()
    except KeyboardInterrupt:
        log(f"interrupted; {stopped} stopped")
        return 130
    except expected as exc:
        log(f"error: {exc}")
        return 1


def options_from(args: argparse.Namespace) -> Options:
    """Defaults, then --quick, then whatever was given explicitly."""
    options = Options().quick() if args.quick else Options()
    given = {
        "database": args.database, "messages": args.messages, "warmup": args.warmup,
        "duration_s": args.duration, "senders": args.senders, "rooms": args.rooms,
        "rounds": args.rounds,
    }
    options = replace(options, **{k: v for k, v in given.items() if v is not None})
    return replace(options, scenarios=tuple(dict.fromkeys(args.scenarios)))


def output_path(args: argparse.Namespace) -> Path | None:
    """Where to write the docs section, or None."""
    if args.no_write or (args.quick and args.output is None):
        return None
    return args.output or DEFAULT_OUTPUT


def section_key(options: Options) -> str:
    """``core:sqlite`` for the full set of scenarios, else the names run."""
    suite = "+".join(options.scenarios) if options.scenarios else "core"
    return f"{suite}:{options.database}"


@contextmanager
def started_servers(root: Path, options: Options) -> Iterator[list[ServerProcess]]:
    """Both servers running (vanilla first), each on its own database; stopped on exit."""
    with ExitStack() as stack:
        databases: list[Database | None] = [None, None]
        if options.database == "postgres":
            databases = [stack.enter_context(temporary_database(f"hearth_bench_{n}"))
                         for n in ("vanilla", "ours")]
        servers: list[ServerProcess] = [
            VanillaServer(root / "vanilla", free_port(), databases[0]),
            OursServer(root / "ours", free_port(), free_port(), databases[1]),
        ]
        for server in servers:
            log(f"starting {server.name} on {server.base_url} (data: {server.data_dir})")
            stack.callback(server.stop)
            server.start()
        yield servers
        log("stopping the servers")


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def measure(options: Options, keep_data: bool) -> Measured:
    """Start both servers, run the scenarios, stop the servers (also on error or Ctrl-C).

    The data directories are removed after a clean run, kept (and named) otherwise.
    """
    scenarios = select(options.scenarios)
    root = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    measured: Measured | None = None
    try:
        with started_servers(root, options) as servers:
            measured = asyncio.run(run_scenarios(servers, scenarios, options, log))
    finally:
        if measured is not None and not keep_data:
            shutil.rmtree(root, ignore_errors=True)
        else:
            log(f"server data kept in {root}")
    return measured


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; exit status 0 on success, 1 on failure, 130 when interrupted."""
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    if args.suite == "ai_bot":
        return main_ai_bot(args)
    foreign = [n for n in args.scenarios if n not in SUITES.get(args.suite, {})]
    if foreign:
        build_parser().error(f"not a scenario of --suite {args.suite}: {', '.join(foreign)}")
    if args.suite == "media":
        return main_media(args)
    options = options_from(args)
    return exit_status(lambda: main_core(args, options), "servers",
                       (StartError, DatabaseError, ScenarioError))


def main_core(args: argparse.Namespace, options: Options) -> int:
    """``--suite core``: measure both servers, then report and record the results."""
    facts = machine.describe(options.database)
    measured = measure(options, args.keep_data)
    facts = replace(facts, other_load=measured.other_load)
    if facts.other_load > NOISY_SHARE:
        log(f"warning: other processes used {facts.other_load:.0%} of the CPU while measuring; "
            "the absolute figures are inflated (the ratios less so)")
    key = section_key(options)
    log(f"raw results: {results.save(measured.results, options, facts, key)}")
    print(report.text_table(report.rows(measured.results)))
    target = output_path(args)
    if target is not None:
        section = report.markdown_section(measured.results, options, facts)
        docs.write_section(target, key, section)
        log(f"wrote section {key} of {target}")
    print(f"\nreproduce: {reproduce_command(options)}")
    return 0
