"""Structured (JSON lines) logging for the hearth command's own messages.

Fields given as ``extra={"fields": {...}}`` become keys of the line, so a log search can
ask for ``event == "process_exited" and process == "ai_bot"`` without parsing the message.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single JSON line."""
        payload: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            payload.update({key: value for key, value in fields.items() if key not in payload})
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
