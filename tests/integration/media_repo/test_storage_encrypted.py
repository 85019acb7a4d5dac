"""At-rest encryption with a key from config: the bucket holds only ciphertext, clients get
the plaintext streamed (never a redirect to the ciphertext)."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import httpx
import pytest

from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory
from tests.harness.s3 import STORAGE_TEST_SETTINGS, SessionS3
from tests.harness.server import Homeserver
from tests.harness.server_pool import ServerPool
from tests.integration.media_repo.media_http import auth, download, uploaded


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media-key") / "media_encryption_key"
    path.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    return path


@pytest.fixture(scope="session")
def encrypted_bucket() -> dict[str, str]:
    """The bucket of each engine's encrypting homeserver (made on first use)."""
    return {}


@pytest.fixture
def server(server_pool: ServerPool, engine: str, s3_server: SessionS3, key_file: Path,
           encrypted_bucket: dict[str, str]) -> Homeserver:
    bucket = encrypted_bucket.setdefault(engine, s3_server.bucket(f"enc-{engine}"))
    return server_pool.get(engine, s3_server.settings(
        bucket, *STORAGE_TEST_SETTINGS, f"media.encryption_key_file={key_file}"))


async def test_encrypted_object_holds_no_plaintext_and_downloads(
        server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient,
        s3_server: SessionS3) -> None:
    """The object under the content's SHA-256 is ciphertext; the evicted file downloads whole."""
    alice = await clients.user("alice")
    content = b"confidential attachment " * 40_000  # ~1 MB, several chunks
    mxc = await uploaded(http, server, alice, content, "application/octet-stream")
    digest = hashlib.sha256(content).hexdigest()
    body = s3_server.client().get_object(Bucket=s3_server.bucket_of(server),
                                         Key=f"blobs/{digest[:2]}/{digest}")["Body"].read()
    assert b"confidential" not in body and len(body) > len(content)
    local = (server.data_dir / "media_store" / "local_content" / mxc.media_id[:2]
             / mxc.media_id[2:4] / mxc.media_id[4:])

    async def evicted() -> bool:
        return not local.exists()

    await eventually(evicted, bool, what="the local copy to be evicted")
    answer = await download(http, server, alice, mxc)
    assert answer.status_code == 200 and answer.content == content


async def test_encrypted_media_is_streamed_not_redirected(
        server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient) -> None:
    """allow_redirect=true still answers 200 with the plaintext: the bucket's bytes are
    ciphertext, so there is nothing to redirect to."""
    alice = await clients.user("alice")
    content = os.urandom(30_000)
    mxc = await uploaded(http, server, alice, content, "application/octet-stream")
    answer = await http.get(f"{server.base_url}/_matrix/client/v1/media/download/{mxc.path}",
                            params={"allow_redirect": "true"}, headers=auth(alice))
    assert answer.status_code == 200 and answer.content == content
