"""allow_redirect=true: a 307 to a short-lived signed URL of the bucket, followed by a client;
altered or expired URLs are refused by the store, quarantined media is never redirected."""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory
from tests.harness.s3 import SessionS3
from tests.harness.server import Homeserver
from tests.harness.server_pool import ServerPool
from tests.integration.media_repo.media_http import auth, refusal, uploaded


@pytest.fixture
def server(server_pool: ServerPool, engine: str, s3_server: SessionS3) -> Homeserver:
    return s3_server.storage_homeserver(server_pool, engine)


def _download_url(server: Homeserver, path: str, redirect: bool = True) -> str:
    query = "?allow_redirect=true" if redirect else ""
    return f"{server.base_url}/_matrix/client/v1/media/download/{path}{query}"


async def test_redirect_followed_by_a_client_gives_the_bytes(
    server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient,
) -> None:
    """307 with a signed Location and no-store; following it (no token) gives the file with
    Synapse's type and disposition."""
    alice = await clients.user("alice")
    data = b"%PDF-1.5\n" + os.urandom(50_000)
    mxc = await uploaded(http, server, alice, data, "application/pdf", filename="notes.pdf")
    response = await http.get(_download_url(server, mxc.path), headers=auth(alice))
    assert response.status_code == 307, response.text
    assert response.headers["cache-control"] == "no-store"
    location = response.headers["location"]
    assert "Signature" in location or "X-Amz-Signature" in location
    followed = await http.get(location)
    assert followed.status_code == 200 and followed.content == data
    assert followed.headers["content-type"] == "application/pdf"
    assert followed.headers["content-disposition"].startswith("attachment")


async def test_client_library_follows_the_redirect(
    server: Homeserver, clients: ClientFactory,
) -> None:
    """httpx with follow_redirects, as a client would: one call, the bytes."""
    alice = await clients.user("alice")
    async with httpx.AsyncClient(timeout=60, follow_redirects=True) as follower:
        data = os.urandom(30_000)
        mxc = await uploaded(follower, server, alice, data, "application/octet-stream")
        response = await follower.get(_download_url(server, mxc.path), headers=auth(alice))
        assert response.status_code == 200 and response.content == data
        assert len(response.history) == 1 and response.history[0].status_code == 307


async def test_without_allow_redirect_the_file_is_streamed(
    server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient,
) -> None:
    """Clients that do not ask for a redirect get the bytes from the homeserver."""
    alice = await clients.user("alice")
    data = os.urandom(20_000)
    mxc = await uploaded(http, server, alice, data, "application/octet-stream")
    response = await http.get(_download_url(server, mxc.path, redirect=False),
                              headers=auth(alice))
    assert response.status_code == 200 and response.content == data


async def test_altered_signed_url_refused_by_the_store(
    server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient,
) -> None:
    """Changing the signature, the key or the expiry of the URL makes the store refuse it."""
    alice = await clients.user("alice")
    first = await uploaded(http, server, alice, os.urandom(1000), "application/octet-stream")
    other = await uploaded(http, server, alice, os.urandom(1000), "application/octet-stream")
    location = (await http.get(_download_url(server, first.path),
                               headers=auth(alice))).headers["location"]
    other_location = (await http.get(_download_url(server, other.path),
                                     headers=auth(alice))).headers["location"]
    parts = urlsplit(location)
    query = dict(parse_qsl(parts.query))
    signature_field = next(k for k in query if k.lower().endswith("signature"))
    tampered = []
    forged = dict(query, **{signature_field: "0" * len(query[signature_field])})
    tampered.append(urlunsplit(parts._replace(query=urlencode(forged))))
    tampered.append(urlunsplit(parts._replace(path=urlsplit(other_location).path)))
    expiry_field = next((k for k in query if k.lower() in ("x-amz-expires", "expires")), None)
    if expiry_field is not None:
        longer = dict(query, **{expiry_field: str(int(query[expiry_field]) * 100)})
        tampered.append(urlunsplit(parts._replace(query=urlencode(longer))))
    for url in tampered:
        assert (await http.get(url)).status_code == 403, url


async def test_expired_signed_url_refused(
    server_pool: ServerPool, engine: str, s3_server: SessionS3, http: httpx.AsyncClient,
) -> None:
    """With a 1-second lifetime, the URL works at once and is refused once it has expired."""
    short = server_pool.get(engine, s3_server.settings(s3_server.bucket("short"),
                                                       "media.download.url_lifetime=1s"))
    clients = ClientFactory(short)
    try:
        alice = await clients.user("alice")
        mxc = await uploaded(http, short, alice, os.urandom(1000), "application/octet-stream")
        location = (await http.get(_download_url(short, mxc.path),
                                   headers=auth(alice))).headers["location"]
        assert (await http.get(location)).status_code == 200
        refused = await eventually(lambda: http.get(location),
                                   lambda r: r.status_code != 200, timeout=15,
                                   what="the signed URL to expire")
        assert refused.status_code == 403  # SigV4 dates are whole seconds: expiry within 1 s
    finally:
        await clients.close()


async def test_quarantined_media_never_redirected(
    server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient,
) -> None:
    """Once an admin quarantines it, allow_redirect gets Synapse's 404, not a URL."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, server, alice, os.urandom(2000), "application/octet-stream")
    admin = {"Authorization": f"Bearer {server.admin['access_token']}"}
    quarantine = await http.post(
        f"{server.base_url}/_synapse/admin/v1/media/quarantine/{mxc.path}", headers=admin)
    assert quarantine.status_code == 200, quarantine.text
    response = await http.get(_download_url(server, mxc.path), headers=auth(alice))
    refusal(response, 404, "M_NOT_FOUND")
    assert "location" not in response.headers


async def test_redirect_needs_a_token(
    server: Homeserver, clients: ClientFactory, http: httpx.AsyncClient,
) -> None:
    """No token, no URL: 401 as on Synapse's authenticated endpoint."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, server, alice, os.urandom(500), "application/octet-stream")
    response = await http.get(_download_url(server, mxc.path))
    refusal(response, 401, "M_MISSING_TOKEN")
    assert "location" not in response.headers
