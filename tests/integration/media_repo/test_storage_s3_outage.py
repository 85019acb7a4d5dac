"""S3 going away, before or in the middle of an upload: the client gets a clear Matrix error
(503 M_UNKNOWN, not a 500, not a hang) and no media is left half-stored."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory, User
from tests.harness.logins import database_cursor
from tests.harness.s3 import STORAGE_TEST_SETTINGS, SessionS3
from tests.harness.server import Homeserver
from tests.harness.server_pool import ServerPool
from tests.integration.media_repo.media_http import download, refusal, upload, uploaded


@pytest.fixture(scope="module")
def flaky_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionS3]:
    """An S3 server of these tests alone: they stop it."""
    server = SessionS3(tmp_path_factory.mktemp("flaky-s3"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def flaky_bucket(flaky_s3: SessionS3) -> str:
    return flaky_s3.bucket("flaky")


@pytest.fixture
def server(server_pool: ServerPool, engine: str, flaky_s3: SessionS3,
           flaky_bucket: str) -> Homeserver:
    return server_pool.get(engine, flaky_s3.settings(flaky_bucket, *STORAGE_TEST_SETTINGS))


@pytest.fixture
def s3_back(flaky_s3: SessionS3) -> Iterator[SessionS3]:
    """The test may stop S3; it is reachable again afterwards whatever happened."""
    yield flaky_s3
    flaky_s3.start_front()


def media_rows(server: Homeserver, user: User) -> int:
    with database_cursor(server) as (cursor, engine):
        marker = "%s" if engine == "postgres" else "?"
        cursor.execute("SELECT COUNT(*) FROM local_media_repository "
                       f"WHERE user_id = {marker}", (user.user_id,))
        return int(cursor.fetchone()[0])


def local_files(server: Homeserver) -> set[Path]:
    root = server.data_dir / "media_store" / "local_content"
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


async def test_upload_while_s3_is_down_is_refused_and_leaves_nothing(
        server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient,
        s3_back: SessionS3) -> None:
    """S3 unreachable: 503 M_UNKNOWN saying to try again; no media row, no local file."""
    alice = await clients.user("alice")
    before = local_files(server)
    s3_back.stop_front()
    answer = await upload(http, server, alice, os.urandom(50_000), "application/octet-stream")
    message = refusal(answer, 503, "M_UNKNOWN")
    assert "try again" in message
    assert media_rows(server, alice) == 0
    assert local_files(server) <= before


async def test_s3_gone_mid_upload_is_refused_and_leaves_nothing(
        server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient,
        s3_back: SessionS3) -> None:
    """S3 goes away after 8 MB of a 24 MB upload's parts: 503, no media row, no local file."""
    alice = await clients.user("alice")
    before = local_files(server)
    s3_back.on_request_bytes(8 * 1024 * 1024, s3_back.stop_front)
    answer = await upload(http, server, alice, os.urandom(24 * 1024 * 1024),
                          "application/octet-stream")
    refusal(answer, 503, "M_UNKNOWN")
    assert media_rows(server, alice) == 0
    assert local_files(server) <= before


async def test_upload_works_again_once_s3_is_back(
        server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient,
        s3_back: SessionS3) -> None:
    """After an outage the next upload is stored and downloads."""
    alice = await clients.user("alice")
    s3_back.stop_front()
    refusal(await upload(http, server, alice, b"during", "application/octet-stream"), 503,
            "M_UNKNOWN")
    s3_back.start_front()
    content = os.urandom(10_000)
    mxc = await uploaded(http, server, alice, content, "application/octet-stream")
    answer = await download(http, server, alice, mxc)
    assert answer.status_code == 200 and answer.content == content
    assert media_rows(server, alice) == 1


async def test_download_while_s3_is_down_is_a_clear_error(
        server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient,
        s3_back: SessionS3) -> None:
    """A file only in S3 (local copy evicted) while S3 is down: 503, not 404 or 500."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, server, alice, os.urandom(10_000), "application/octet-stream")
    media_id = mxc.media_id
    local = (server.data_dir / "media_store" / "local_content" / media_id[:2] / media_id[2:4]
             / media_id[4:])
    async def evicted() -> bool:
        return not local.exists()

    await eventually(evicted, bool, what="the local copy to be evicted")
    s3_back.stop_front()
    refusal(await download(http, server, alice, mxc), 503, "M_UNKNOWN")
