"""A real clamd for the tests: one per session, detecting a test sample and EICAR.

The sample is random bytes made once per session and signed with ``sigtool --md5``
(devtools/clamd.py), so only that exact file is "infected". Tests that need the scanner to go
away call ``stop()`` and ``start()`` again (same socket and port)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.clamd import Clamd, signature_name

SAMPLE_NAME = "Hearth-Test-Sample"


class SessionClamd(Clamd):
    """clamd with ``infected_sample`` (bytes it detects as ``infected_signature``)."""

    def __init__(self, directory: Path) -> None:
        self.infected_sample = secrets.token_bytes(64 * 1024)
        self.infected_signature = signature_name(SAMPLE_NAME)
        super().__init__(directory, {SAMPLE_NAME: self.infected_sample})


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionClamd]:
    """A real clamd on a unix socket and a loopback TCP port, for the whole session."""
    server = SessionClamd(tmp_path_factory.mktemp("clamd"))
    server.start()
    yield server
    server.stop()
