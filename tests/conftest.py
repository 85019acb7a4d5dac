"""Fixtures shared by all tests: the SMTP server, the homeservers (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from devtools.fake_openai import FakeOpenAI
from tests.harness.clients import ClientFactory
from tests.harness.postgres import require_postgres_or_skip, temporary_database
from tests.harness.server import Homeserver, make_homeserver
from tests.harness.smtp import SmtpServer


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A fresh scripted OpenAI-compatible server on a free loopback port."""
    server = FakeOpenAI()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback; Synapse sends password-recovery mail to it."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def homeserver(
    request: pytest.FixtureRequest, smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Homeserver]:
    """A real Synapse with all our modules, started once per session per database."""
    engine: str = request.param
    data_dir: Path = tmp_path_factory.mktemp(f"hs-{engine}")
    if engine == "sqlite":
        server = make_homeserver("sqlite", data_dir, smtp.port, None)
        server.start()
        yield server
        server.stop()
        return
    require_postgres_or_skip()
    with temporary_database() as database:
        server = make_homeserver("postgres", data_dir, smtp.port, database)
        server.start()
        yield server
        server.stop()


@pytest.fixture
async def clients(homeserver: Homeserver) -> AsyncIterator[ClientFactory]:
    """Makes users on the homeserver under test; closes their sessions afterwards."""
    factory = ClientFactory(homeserver)
    yield factory
    await factory.close()


@pytest.fixture(scope="session")
def smtp_port(smtp: SmtpServer) -> int:
    """Port of the session's SMTP server, for tests that start their own homeserver."""
    return smtp.port
