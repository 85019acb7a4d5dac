"""Fixtures of the media integration tests.

``server`` is the homeserver a file talks to: the session's default one unless the file
overrides it (object storage, scanning, ...); ``clients`` makes users on that server, ``http``
is a plain HTTP client for the requests mautrix has no helper for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.harness.clients import ClientFactory
from tests.harness.server import Homeserver


@pytest.fixture
def server(homeserver: Homeserver) -> Homeserver:
    return homeserver


@pytest.fixture
async def clients(server: Homeserver) -> AsyncIterator[ClientFactory]:
    factory = ClientFactory(server)
    yield factory
    await factory.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=120) as client:
        yield client
