"""Media in S3: an upload lands in the bucket as a content-addressed object, the local media
store is only a cache (bound 0 here: emptied at once), and downloads come back from S3."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest

from tests.harness import media_samples as samples
from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory
from tests.harness.logins import database_cursor
from tests.harness.s3 import SessionS3
from tests.harness.server import Homeserver
from tests.harness.server_pool import ServerPool
from tests.integration.media_repo.media_http import Mxc, auth, download, thumbnail, uploaded


@pytest.fixture
def server(server_pool: ServerPool, engine: str, s3_server: SessionS3) -> Homeserver:
    return s3_server.storage_homeserver(server_pool, engine)


def local_file(server: Homeserver, mxc: Mxc) -> Path:
    media_id = mxc.media_id
    return (server.data_dir / "media_store" / "local_content" / media_id[:2] / media_id[2:4]
            / media_id[4:])


def blob_key(content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()
    return f"blobs/{digest[:2]}/{digest}"


async def test_upload_lands_in_the_bucket_under_its_sha256(
        server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient,
        s3_server: SessionS3) -> None:
    """The uploaded bytes are an object named by their SHA-256 when the upload answers."""
    alice = await clients.user("alice")
    content = os.urandom(100_000)
    await uploaded(http, server, alice, content, "application/octet-stream")
    assert blob_key(content) in s3_server.keys(s3_server.bucket_of(server), "blobs/")


async def test_download_after_eviction_comes_from_the_bucket(
        server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient) -> None:
    """The local copy is evicted (bound 0); the download still answers the same bytes."""
    alice, bob = await clients.user("alice"), await clients.user("bob")
    content = os.urandom(300_000)
    mxc = await uploaded(http, server, alice, content, "application/octet-stream")

    async def evicted() -> bool:
        return not local_file(server, mxc).exists()

    await eventually(evicted, bool, what="the local copy to be evicted")
    answer = await download(http, server, bob, mxc)
    assert answer.status_code == 200 and answer.content == content
    assert not local_file(server, mxc).exists()  # streamed from S3, not cached again


async def test_thumbnail_of_an_evicted_image_is_made_from_the_bucket(
        server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient,
        s3_server: SessionS3) -> None:
    """An image whose local copy is gone is fetched back to make a thumbnail; thumbnails are
    stored in the bucket too."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, server, alice, samples.still("PNG", 400, 300), "image/png")

    async def evicted() -> bool:
        return not local_file(server, mxc).exists()

    await eventually(evicted, bool, what="the local copy to be evicted")
    answer = await thumbnail(http, server, alice, mxc, 96, 96, "crop")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("image/") and answer.content
    with database_cursor(server) as (cursor, engine):
        marker = "%s" if engine == "postgres" else "?"
        cursor.execute("SELECT COUNT(*) FROM hearth_media_objects WHERE file_id = "
                       f"{marker} AND thumbnail_width IS NOT NULL", (mxc.media_id,))
        assert int(cursor.fetchone()[0]) >= 1  # Synapse's thumbnails went to S3 as well


async def test_redirect_download_goes_to_a_presigned_url(
        server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient) -> None:
    """allow_redirect=true: 307 to a short-lived presigned URL a plain client follows, with
    Synapse's headers; the same URL altered is refused by S3."""
    alice = await clients.user("alice")
    content = os.urandom(20_000)
    mxc = await uploaded(http, server, alice, content, "application/octet-stream", "a b.bin")
    answer = await http.get(f"{server.base_url}/_matrix/client/v1/media/download/{mxc.path}",
                            params={"allow_redirect": "true"}, headers=auth(alice))
    assert answer.status_code == 307, answer.text
    location = answer.headers["location"]
    assert "X-Amz-Signature=" in location
    followed = await http.get(location)
    assert followed.status_code == 200 and followed.content == content
    assert followed.headers["content-disposition"] == "attachment; filename*=utf-8''a%20b.bin"
    altered = await http.get(location.replace("X-Amz-Expires=", "X-Amz-Expires=9"))
    assert altered.status_code == 403
