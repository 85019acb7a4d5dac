"""A restart of Synapse loses nothing stored in S3: media uploaded before it downloads after,
also when the local media store kept no copy."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory
from tests.harness.logins import metric, metrics
from tests.harness.postgres import database_for
from tests.harness.s3 import STORAGE_TEST_SETTINGS, SessionS3
from tests.harness.server import Homeserver, make_homeserver
from tests.integration.media_repo.media_http import download, uploaded


@pytest.fixture
def restartable(engine: str, tmp_path: Path, smtp_port: int,
                s3_server: SessionS3) -> Iterator[Homeserver]:
    """A homeserver of this test alone (it is restarted), storing media in a fresh bucket."""
    with database_for(engine, "hearth_storage_restart") as database:
        server = make_homeserver(f"storage-restart-{engine}", tmp_path / "hs", smtp_port,
                                 database, s3_server.settings(s3_server.bucket("restart"),
                                                              *STORAGE_TEST_SETTINGS))
        server.start()
        yield server
        server.stop()


async def test_media_survives_a_restart(restartable: Homeserver,
                                        http: httpx.AsyncClient) -> None:
    """Uploaded, local copy evicted, Synapse restarted: the same bytes come back, and a
    re-upload of them after the restart is deduplicated against the stored object."""
    clients = ClientFactory(restartable)
    try:
        alice = await clients.user("alice")
        content = os.urandom(250_000)
        mxc = await uploaded(http, restartable, alice, content, "application/octet-stream")
        media_id = mxc.media_id
        local = (restartable.data_dir / "media_store" / "local_content" / media_id[:2]
                 / media_id[2:4] / media_id[4:])

        async def evicted() -> bool:
            return not local.exists()

        await eventually(evicted, bool, what="the local copy to be evicted")
    finally:
        await clients.close()
    restartable.restart()
    clients = ClientFactory(restartable)
    try:
        bob = await clients.user("bob")
        answer = await download(http, restartable, bob, mxc)
        assert answer.status_code == 200 and answer.content == content
        again = await uploaded(http, restartable, bob, content, "application/octet-stream")
        answer = await download(http, restartable, bob, again)
        assert answer.status_code == 200 and answer.content == content
        assert metric(await metrics(restartable), "hearth_media_storage_stores_total",
                      outcome="deduplicated") == 1
    finally:
        await clients.close()
