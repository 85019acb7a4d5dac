"""Structured (JSON lines) logging for the hearth command's own messages."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single JSON line."""
        payload = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload)


def configure_logging(log_file: Path, level: int = logging.INFO) -> None:
    """Send the ``hearth`` loggers to ``log_file`` as JSON lines."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger("hearth")
    root.handlers = [handler]
    root.setLevel(level)
    root.propagate = False
