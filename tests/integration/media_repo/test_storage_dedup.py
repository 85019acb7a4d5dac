"""Identical uploads by two users: one object in the bucket, two media IDs, each with its own
access control and its own lifetime; the object goes only when neither is left."""

from __future__ import annotations

import hashlib
import os
import time

import httpx
import pytest

from tests.harness.calls import eventually, seg
from tests.harness.clients import ClientFactory, User
from tests.harness.logins import database_cursor, metric, metrics
from tests.harness.s3 import SessionS3
from tests.harness.server import Homeserver
from tests.harness.server_pool import ServerPool
from tests.integration.media_repo.media_http import Mxc, auth, download, refusal, uploaded


@pytest.fixture
def server(server_pool: ServerPool, engine: str, s3_server: SessionS3) -> Homeserver:
    return s3_server.storage_homeserver(server_pool, engine)


GRACE_S = 3.0  # media.orphan_grace in STORAGE_TEST_SETTINGS


async def reconciled_after(server: Homeserver, moment: float) -> None:
    """Wait for a complete reconciler pass that started after ``moment`` (Unix time)."""
    async def last_pass() -> float:
        return metric(await metrics(server),
                      "hearth_media_storage_reconcile_last_pass_timestamp_seconds")

    await eventually(last_pass, lambda started: started > moment, timeout=30,
                     what=f"a reconciler pass after {moment}")


def blob_key(content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()
    return f"blobs/{digest[:2]}/{digest}"


def mapped_paths(server: Homeserver, mxc: Mxc) -> int:
    """How many of the provider's mappings belong to this media ID (original, thumbnails)."""
    with database_cursor(server) as (cursor, engine):
        marker = "%s" if engine == "postgres" else "?"
        cursor.execute(f"SELECT COUNT(*) FROM hearth_media_objects WHERE file_id = {marker}",
                       (mxc.media_id,))
        return int(cursor.fetchone()[0])


async def two_identical_uploads(server: Homeserver, clients: ClientFactory,
                                http: httpx.AsyncClient) -> tuple[bytes, User, Mxc, User, Mxc]:
    alice, bob = await clients.user("alice"), await clients.user("bob")
    content = os.urandom(200_000)
    first = await uploaded(http, server, alice, content, "application/octet-stream")
    second = await uploaded(http, server, bob, content, "application/octet-stream")
    return content, alice, first, bob, second


async def admin_delete(http: httpx.AsyncClient, server: Homeserver, admin: User,
                       mxc: Mxc) -> None:
    answer = await http.delete(f"{server.base_url}/_synapse/admin/v1/media/{mxc.path}",
                               headers=auth(admin))
    assert answer.status_code == 200, answer.text
    assert answer.json()["deleted_media"] == [mxc.media_id]


async def test_identical_uploads_are_one_object(server: Homeserver, clients: ClientFactory,
                                                http: httpx.AsyncClient,
                                                s3_server: SessionS3) -> None:
    """Two users, the same bytes: two media IDs, one object, counted as a dedup hit."""
    before = metric(await metrics(server), "hearth_media_storage_stores_total",
                    outcome="deduplicated")
    content, alice, first, bob, second = await two_identical_uploads(server, clients, http)
    assert first.media_id != second.media_id
    keys = s3_server.keys(s3_server.bucket_of(server), "blobs/")
    assert keys.count(blob_key(content)) == 1
    after = metric(await metrics(server), "hearth_media_storage_stores_total",
                   outcome="deduplicated")
    assert after >= before + 1
    for user, mxc in ((alice, first), (bob, second)):
        answer = await download(http, server, user, mxc)
        assert answer.status_code == 200 and answer.content == content


async def test_quarantine_spares_a_protected_twin(server: Homeserver, clients: ClientFactory,
                                                 http: httpx.AsyncClient) -> None:
    """Synapse quarantines by content hash, and protection is per media ID: with the twin
    protected, quarantining one refuses it and still serves the other from the shared
    object."""
    content, alice, first, bob, second = await two_identical_uploads(server, clients, http)
    admin = await clients.user("admin", admin=True)
    answer = await http.post(f"{server.base_url}/_synapse/admin/v1/media/protect/"
                             f"{second.media_id}", headers=auth(admin))
    assert answer.status_code == 200, answer.text
    answer = await http.post(f"{server.base_url}/_synapse/admin/v1/media/quarantine/"
                             f"{first.path}", headers=auth(admin))
    assert answer.status_code == 200, answer.text
    refusal(await download(http, server, alice, first), 404, "M_NOT_FOUND")
    answer = await download(http, server, bob, second)
    assert answer.status_code == 200 and answer.content == content


async def test_quarantine_keeps_the_object_for_unquarantine(
        server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient) -> None:
    """Quarantined media keeps its rows, so the reconciler keeps its object: lifted after
    passes of the reconciler, both media IDs download again."""
    content, alice, first, bob, second = await two_identical_uploads(server, clients, http)
    admin = await clients.user("admin", admin=True)
    answer = await http.post(f"{server.base_url}/_synapse/admin/v1/media/quarantine/"
                             f"{first.path}", headers=auth(admin))
    assert answer.status_code == 200, answer.text
    refusal(await download(http, server, bob, second), 404, "M_NOT_FOUND")  # same hash
    await reconciled_after(server, time.time() + GRACE_S)
    for mxc in (first, second):
        answer = await http.post(f"{server.base_url}/_synapse/admin/v1/media/unquarantine/"
                                 f"{mxc.path}", headers=auth(admin))
        assert answer.status_code == 200, answer.text
    assert mapped_paths(server, first) >= 1 and mapped_paths(server, second) >= 1
    for user, mxc in ((alice, first), (bob, second)):
        answer = await download(http, server, user, mxc)
        assert answer.status_code == 200 and answer.content == content


async def test_deleting_one_media_id_keeps_the_other(server: Homeserver, clients: ClientFactory,
                                                     http: httpx.AsyncClient,
                                                     s3_server: SessionS3) -> None:
    """Synapse's delete admin API on one: its mappings go (reconciler), the shared object
    and the other media ID stay."""
    content, alice, first, bob, second = await two_identical_uploads(server, clients, http)
    admin = await clients.user("admin", admin=True)
    await admin_delete(http, server, admin, first)

    async def first_mappings() -> int:
        return mapped_paths(server, first)

    await eventually(first_mappings, lambda count: count == 0, timeout=30,
                     what="the deleted media's mappings to be reconciled away")
    refusal(await download(http, server, alice, first), 404, "M_NOT_FOUND")
    answer = await download(http, server, bob, second)
    assert answer.status_code == 200 and answer.content == content
    assert blob_key(content) in s3_server.keys(s3_server.bucket_of(server), "blobs/")


async def test_deleting_both_media_ids_removes_the_object(
        server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient,
        s3_server: SessionS3) -> None:
    """Both deleted through Synapse's admin API: the reconciler removes the object."""
    content, _, first, _, second = await two_identical_uploads(server, clients, http)
    admin = await clients.user("admin", admin=True)
    await admin_delete(http, server, admin, first)
    await admin_delete(http, server, admin, second)
    bucket = s3_server.bucket_of(server)

    async def still_there() -> bool:
        return blob_key(content) in s3_server.keys(bucket, "blobs/")

    await eventually(still_there, lambda present: not present, timeout=45,
                     what="the object to be removed from the bucket")


async def test_delete_of_an_unknown_media_id_is_refused(server: Homeserver,
                                                        clients: ClientFactory,
                                                        http: httpx.AsyncClient) -> None:
    """Synapse's own refusal passes through unchanged (the provider is not involved)."""
    admin = await clients.user("admin", admin=True)
    answer = await http.delete(f"{server.base_url}/_synapse/admin/v1/media/"
                               f"{seg(server.server_name)}/nosuchmediaatall",
                               headers=auth(admin))
    refusal(answer, 404, "M_NOT_FOUND")
