"""Supervisor: each exit and restart is one structured log line with the process's facts."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from hearth.structured_log import configure_logging
from tests.unit.hearth.supervised import FakeClock, optional_crasher, supervisor_with


def test_exit_and_restart_are_json_lines_with_fields(tmp_path: Path) -> None:
    """`event`, `process`, `exit_code`, `restarts` are keys of the line, not only prose."""
    log_file = tmp_path / "hearth.log"
    hearth_logger = logging.getLogger("hearth")
    saved = (hearth_logger.handlers, hearth_logger.level, hearth_logger.propagate)
    configure_logging(log_file)
    try:
        clock = FakeClock()
        sup = supervisor_with(clock)
        sup.start(optional_crasher(tmp_path))
        clock.advance(1)
        sup.watch_once()
        sup.stop_all()
    finally:
        for handler in hearth_logger.handlers:
            handler.close()
        hearth_logger.handlers, hearth_logger.level, hearth_logger.propagate = saved
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    exited = next(line for line in lines if line.get("event") == "process_exited")
    assert (exited["process"], exited["exit_code"], exited["optional"]) == ("bot", 3, True)
    assert exited["restart_in_s"] == 1
    assert exited["message"] == "bot exited with status 3; restarting in 1s"
    restarted = next(line for line in lines if line.get("event") == "process_restarted")
    assert (restarted["process"], restarted["restarts"]) == ("bot", 1)
    assert isinstance(restarted["pid"], int)
