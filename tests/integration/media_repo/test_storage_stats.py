"""The media admin stats with object storage: what the bucket holds against what was stored."""

from __future__ import annotations

import os

import httpx

from tests.harness.clients import ClientFactory
from tests.harness.s3 import SessionS3
from tests.harness.server_pool import ServerPool
from tests.integration.media_repo.media_http import INFO, uploaded


async def test_stats_show_dedup_of_the_bucket(
    server_pool: ServerPool, engine: str, s3_server: SessionS3,
) -> None:
    """Three users upload the same 40 KB: logical bytes grow by 3x, stored bytes by 1x."""
    server = s3_server.storage_homeserver(server_pool, engine)
    clients = ClientFactory(server)
    admin = {"Authorization": f"Bearer {server.admin['access_token']}"}
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            before = (await http.get(f"{server.base_url}{INFO}/admin/stats",
                                     headers=admin)).json()["object_storage"]
            data = os.urandom(40_000)
            for name in ("ann", "ben", "cat"):
                user = await clients.user(name)
                await uploaded(http, server, user, data, "application/octet-stream")
            after = (await http.get(f"{server.base_url}{INFO}/admin/stats",
                                    headers=admin)).json()["object_storage"]
    finally:
        await clients.close()
    assert after["logical_bytes"] - before["logical_bytes"] == 120_000
    assert after["stored_bytes"] - before["stored_bytes"] == 40_000
    assert after["objects"] - before["objects"] == 1
