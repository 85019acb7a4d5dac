"""Fuzzing support: judge each answer against "a Matrix error, never a 5xx", keep the tally.

A fuzz run records every request it sends here. The counts (requests sent, 5xx seen, refusals
that are not Matrix errors) and each problem — the request, the answer and the homeserver log's
error lines for it — go to a JSON file under pytest's temporary directory, so the numbers are kept
whatever pytest's output capture does; the test then fails with the problems listed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.harness.server import Homeserver

SHOWN_BYTES = 300
LOG_LINES = 6
LOG_SLACK_S = 0.05  # the log's timestamps have two decimals


def refusal_problem(status: int, body: bytes, html: bool = False) -> str | None:
    """What is wrong with an answer (None when it keeps the rule).

    A 5xx is always wrong. A 4xx of a JSON API must be a JSON object with string ``errcode``
    and ``error``, except a user-interactive-auth challenge (401 with ``flows``), which the
    spec defines without them when no stage was attempted. A page (``html``) refuses with a
    page a person can read.
    """
    if status >= 500:
        return f"server error {status}"
    if status < 400:
        return None
    if html:
        return None if b"<html" in body[:200] else f"{status} refusal that is not a page"
    try:
        data = json.loads(body)
    except ValueError:
        return f"{status} refusal whose body is not JSON"
    if not isinstance(data, dict):
        return f"{status} refusal whose body is not a JSON object"
    if status == 401 and isinstance(data.get("flows"), list):
        return None
    if not isinstance(data.get("errcode"), str) or not isinstance(data.get("error"), str):
        return f"{status} refusal without string errcode and error"
    return None


def shown(data: bytes | str) -> str:
    """The start of a body, readable in a report."""
    text = data if isinstance(data, str) else data.decode("utf-8", "backslashreplace")
    return text if len(text) <= SHOWN_BYTES else f"{text[:SHOWN_BYTES]}... ({len(text)} chars)"


@dataclass
class FuzzTally:
    """The requests of one fuzz run against one homeserver, and what went wrong."""

    name: str
    server: Homeserver
    out_dir: Path
    requests: int = 0
    server_errors: int = 0
    unanswered: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    _sent_at: float = 0.0

    @property
    def log_file(self) -> Path:
        return self.server.data_dir / "logs" / "homeserver.log"

    def before(self) -> None:
        """Call before each request: its answer's problems are matched to the log by time."""
        self._sent_at = time.time()

    def record(self, method: str, path: str, headers: dict[str, str], body: bytes | str,
               status: int, answer: bytes, html: bool = False) -> None:
        """Count one request and keep it when its answer breaks the rule."""
        self.requests += 1
        if status >= 500:
            self.server_errors += 1
        problem = refusal_problem(status, answer, html)
        if problem is not None:
            self._keep(problem, method, path, headers, body, status, answer)

    def record_unanswered(self, method: str, path: str, headers: dict[str, str],
                          body: bytes | str, error: Exception) -> None:
        """Count a request the server never answered: timed out or dropped (it must answer)."""
        self.requests += 1
        self.unanswered += 1
        self._keep(f"no answer ({type(error).__name__})", method, path, headers, body, None,
                   b"")
        self.problems[-1]["window"][1] = self._sent_at  # its errors, if any, come at once

    def _keep(self, problem: str, method: str, path: str, headers: dict[str, str],
              body: bytes | str, status: int | None, answer: bytes) -> None:
        self.problems.append({
            "problem": problem, "request": f"{method} {path}", "headers": headers,
            "body": shown(body), "status": status, "answer": shown(answer),
            "window": [self._sent_at, time.time()], "log": []})

    def _attach_logs(self) -> None:
        """Give each problem the error lines Synapse logged for it.

        The JSON log names each line's request (``POST-42``), method and URL, but not our
        case: a problem gets the first request not yet claimed with its method and URL that
        logged an ERROR within its time window (requests are sent one at a time).
        """
        if not self.problems or not self.log_file.exists():
            return
        entries = []
        for line in self.log_file.read_text("utf-8", "replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("level") == "ERROR":
                entries.append(entry)
        claimed: set[str] = set()
        for problem in self.problems:
            start, end = problem["window"]
            method, _, url = problem["request"].partition(" ")
            url = url.split(" [", 1)[0]
            request = next((e["request"] for e in entries
                            if e.get("request") not in claimed and e.get("method") == method
                            and e.get("url") == url
                            and start - LOG_SLACK_S <= e.get("time", 0) <= end + LOG_SLACK_S),
                           None)
            if request is None:
                continue
            claimed.add(request)
            problem["log"] = [
                f"{request} {e.get('namespace')}: {str(e.get('log'))[:SHOWN_BYTES]}"
                + (f" [{e['exc_type']}: {e.get('exc_value')}]" if "exc_type" in e else "")
                for e in entries if e.get("request") == request][:LOG_LINES]

    def write(self) -> Path:
        """Save the counts and problems; returns the file (one per run name)."""
        self._attach_logs()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        target = self.out_dir / f"{self.name}.json"
        target.write_text(json.dumps({
            "name": self.name, "engine": self.server.engine, "requests": self.requests,
            "server_errors": self.server_errors,
            "unanswered": self.unanswered, "problems": self.problems}, indent=1))
        return target

    def report(self) -> str:
        """The problems, for the assertion message."""
        lines = [f"{self.name}: {self.requests} requests, {self.server_errors} 5xx, "
                 f"{self.unanswered} unanswered, {len(self.problems)} answers breaking the rule "
                 f"(all in {self.out_dir / self.name}.json)"]
        for problem in self.problems[:20]:
            lines.append(f"- {problem['problem']}: {problem['request']} "
                         f"body={problem['body']!r} -> {problem['answer']!r}")
            lines.extend(f"    {line}" for line in problem["log"])
        return "\n".join(lines)


def tally_dir(base_temp: Path) -> Path:
    """Where every fuzz run of a pytest session leaves its counts."""
    return base_temp / "fuzz-tallies"
