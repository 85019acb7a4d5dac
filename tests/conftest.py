"""Fixtures shared by all tests: the SMTP server, the homeservers (SQLite and PostgreSQL), the
pool of homeservers with other settings, the fake model server; and the tier markers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from devtools.fake_openai import FakeOpenAI
from tests.harness.clamd import SessionClamd
from tests.harness.clamd import clamd as clamd  # the session's clamd, for media tests
from tests.harness.clients import ClientFactory
from tests.harness.s3 import s3_server as s3_server  # the session's S3 server, for media tests
from tests.harness.server import Homeserver
from tests.harness.server_pool import ServerPool
from tests.harness.smtp import SmtpServer

TESTS_DIR = Path(__file__).parent
# One marker per folder under tests/ (see tests/README.md): `pytest -m unit` runs a tier.
TIERS = {
    "unit": "in-process tests of one module; no Synapse",
    "integration": "starts real Synapse (and bot) processes",
    "stock": "stock Synapse behaviour as Hearth configures it (real Synapse)",
}


def pytest_configure(config: pytest.Config) -> None:
    for tier, meaning in TIERS.items():
        config.addinivalue_line("markers", f"{tier}: {meaning}")
    config.addinivalue_line("markers", "cluster: runs the production worker cluster (Redis)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with the tier of the folder it lives in, and its parallel group.

    With pytest-xdist (``make test PYTEST_ARGS="-n auto --dist loadgroup"``) each file stays on
    one process (its servers are started once there), and every test of a worker cluster
    shares one process, since clusters talk over the one Redis.
    """
    for item in items:
        parts = item.path.relative_to(TESTS_DIR).parts if item.path.is_relative_to(
            TESTS_DIR) else ()
        if parts and parts[0] in TIERS:
            item.add_marker(parts[0])
        group = "cluster" if item.get_closest_marker("cluster") else str(item.path)
        item.add_marker(pytest.mark.xdist_group(group))


class _Service(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


S = TypeVar("S", bound=_Service)


def _running(service: S) -> Iterator[S]:
    service.start()
    yield service
    service.stop()


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A fresh scripted OpenAI-compatible server on a free loopback port."""
    yield from _running(FakeOpenAI())


@pytest.fixture(scope="session")
def fake_model() -> Iterator[FakeOpenAI]:
    """One scripted OpenAI-compatible server for the session (tests reset it)."""
    yield from _running(FakeOpenAI())


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback; Synapse sends password-recovery mail to it."""
    yield from _running(SmtpServer())


@pytest.fixture(scope="session")
def server_pool(smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory,
                clamd: SessionClamd) -> Iterator[ServerPool]:
    """Homeservers by engine and settings, each started once for the whole session."""
    pool = ServerPool(smtp.port, tmp_path_factory.mktemp, clamd.socket_path)
    yield pool
    pool.close()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> str:
    """The database engine of the case: every storage-touching test runs on both."""
    value: str = request.param
    return value


@pytest.fixture(scope="session")
def homeserver(server_pool: ServerPool, engine: str) -> Homeserver:
    """A real Synapse with all our modules and the test settings, one per database engine."""
    return server_pool.get(engine)


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
