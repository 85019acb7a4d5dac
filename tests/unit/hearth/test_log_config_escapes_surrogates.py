"""The rendered homeserver log config writes a lone surrogate escaped instead of losing the
line ("--- Logging error ---"): clients can put one in any JSON string Synapse logs."""

from __future__ import annotations

import logging
import logging.config
from pathlib import Path
from typing import Any

import pytest
import yaml

from hearth.render import LOG_TEMPLATE, _environment


def _log_config(log_file: Path) -> dict[str, Any]:
    template = _environment(LOG_TEMPLATE.parent).get_template(LOG_TEMPLATE.name)
    config: dict[str, Any] = yaml.safe_load(template.render(
        log_file=log_file, level="INFO", structured=True))
    return config


def test_file_handler_escapes_lone_surrogates(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A message with a lone surrogate reaches the file, backslash-escaped."""
    log_file = tmp_path / "homeserver.log"
    handler = dict(_log_config(log_file)["handlers"]["file"], formatter="plain")
    assert handler["errors"] == "backslashreplace"
    logging.config.dictConfig({
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(message)s"}},
        "handlers": {"file": handler},
        "loggers": {"surrogate_test": {"handlers": ["file"], "level": "INFO",
                                       "propagate": False}}})
    logger = logging.getLogger("surrogate_test")
    logger.info("before")
    logger.info("value %s", "a\ud800b")
    logger.info("after")
    for h in logger.handlers:
        h.close()
    logger.handlers.clear()
    assert log_file.read_text("utf-8").splitlines() == ["before", "value a\\ud800b", "after"]
    assert "Logging error" not in capsys.readouterr().err
