"""Redirect targets for downloads: presigned S3 URLs with Synapse's headers, edge URLs the
nginx secure_link check accepts, and None whenever the download must be streamed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hearth.media_repo import edge_signing
from hearth.media_repo.config import DownloadConfig
from hearth.media_repo.storage import runtime
from hearth.media_repo.storage.blobs import MediaRef
from hearth.media_repo.storage.media_objects import MediaObjects
from hearth.media_repo.storage.offload import ObjectOffload
from hearth.media_repo.storage.s3 import S3ObjectStore
from hearth.synapse_compat.media_tables import LocalMedia
from tests.unit.media_repo.storage.conftest import MakeObjects, local_path, write_media

MEDIA_ID = "aaaabbbbccccdddd"
MEDIA = LocalMedia(media_id=MEDIA_ID, media_type="image/png", media_length=9,
                   upload_name="café.png", user_id="@u:hs.test", quarantined=False,
                   sha256=None, created_ts=0)


@pytest.fixture
def registered() -> Iterator[list[MediaObjects]]:
    """What runtime.register is given in the test (restored afterwards)."""
    saved = list(runtime._current)
    yield runtime._current
    runtime._current[:] = saved


async def _stored(make_objects: MakeObjects, media_store: Path, store: S3ObjectStore,
                  key: bytes | None = None) -> MediaObjects:
    objects = make_objects(store, key=key)
    write_media(media_store, local_path(MEDIA_ID), b"png bytes")
    await objects.store_file(local_path(MEDIA_ID), MediaRef("", MEDIA_ID))
    runtime.register(objects)
    return objects


async def test_offload_presigned_url_answers_with_synapse_headers(
        make_objects: MakeObjects, media_store: Path, s3_store: S3ObjectStore,
        registered: list[MediaObjects]) -> None:
    """The URL serves the bytes with Synapse's Content-Type and Content-Disposition."""
    await _stored(make_objects, media_store, s3_store)
    url = await ObjectOffload(DownloadConfig()).signed_url(MEDIA, 60)
    assert url is not None
    answer = httpx.get(url)
    assert answer.status_code == 200 and answer.content == b"png bytes"
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["content-disposition"] == "inline; filename*=utf-8''caf%C3%A9.png"


async def test_offload_is_none_for_encrypted_or_unknown_media(
        make_objects: MakeObjects, media_store: Path, s3_store: S3ObjectStore,
        registered: list[MediaObjects]) -> None:
    """Encrypted at rest, not stored, or no provider in this process: stream instead."""
    offload = ObjectOffload(DownloadConfig())
    runtime._current.clear()
    assert await offload.signed_url(MEDIA, 60) is None
    await _stored(make_objects, media_store, s3_store, key=b"k" * 32)
    assert await offload.signed_url(MEDIA, 60) is None
    other = LocalMedia(**{**MEDIA.__dict__, "media_id": "zzzzzzzzzzzzzzzz"})
    assert await offload.signed_url(other, 60) is None


async def test_offload_edge_url_passes_the_secure_link_check(
        make_objects: MakeObjects, media_store: Path, s3_store: S3ObjectStore,
        registered: list[MediaObjects], tmp_path: Path) -> None:
    """With a media edge: a URL of the blob's key that nginx's rule accepts until expiry."""
    secret_file = tmp_path / "url_key"
    secret_file.write_text("edge-secret\n")
    objects = await _stored(make_objects, media_store, s3_store)
    offload = ObjectOffload(DownloadConfig(cdn_base_url="https://cdn.example.org/m",
                                           url_key_path=str(secret_file)))
    url = await offload.signed_url(MEDIA, 300)
    assert url is not None
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    blob = await objects.tables.blob_of_path(local_path(MEDIA_ID))
    assert blob is not None
    assert parts.path == "/m" + edge_signing.edge_path(objects.key_of(blob.sha256))
    secret = edge_signing.secret_from_file_text(secret_file.read_text())
    now = int(time.time())
    assert edge_signing.verify(parts.path, query["md5"], int(query["expires"]), secret, now)
    assert not edge_signing.verify(parts.path, query["md5"], int(query["expires"]), secret,
                                   now + 301)
