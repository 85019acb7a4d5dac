"""Media: upload, authenticated download, thumbnails and the upload size limit."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image

from tests.harness.calls import seg
from tests.harness.clients import ClientFactory, User
from tests.harness.server import Homeserver
from tests.harness.server_pool import ServerPool

LIMIT = 50 * 1024 * 1024  # media.max_upload_size = 50M in the dev profile


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60) as client:
        yield client


def _auth(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.client.api.token}"}


async def _upload(http: httpx.AsyncClient, server: Homeserver, user: User, data: bytes,
                  content_type: str, filename: str) -> tuple[str, str]:
    """Upload ``data``; return the (server name, media ID) of its mxc:// URI."""
    response = await http.post(
        f"{server.base_url}/_matrix/media/v3/upload", params={"filename": filename},
        content=data, headers={**_auth(user), "Content-Type": content_type},
    )
    assert response.status_code == 200, response.text
    uri = response.json()["content_uri"]
    assert uri.startswith(f"mxc://{server.server_name}/")
    origin, media_id = uri.removeprefix("mxc://").split("/")
    return origin, media_id


def _download_url(server: Homeserver, origin: str, media_id: str) -> str:
    return f"{server.base_url}/_matrix/client/v1/media/download/{seg(origin)}/{seg(media_id)}"


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


async def test_upload_then_download_returns_same_bytes(
    clients: ClientFactory, http: httpx.AsyncClient
) -> None:
    """The uploader downloads exactly the uploaded bytes, content type and file name."""
    alice = await clients.user("alice")
    data = b"%PDF-1.7\n" + os.urandom(70_000)  # a PDF by its content, as the pipeline checks
    origin, media_id = await _upload(http, clients.server, alice, data, "application/pdf",
                                     "minutes.pdf")

    response = await http.get(_download_url(clients.server, origin, media_id),
                              headers=_auth(alice))

    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == "attachment; filename=minutes.pdf"


async def test_download_without_token_refused(
    clients: ClientFactory, http: httpx.AsyncClient
) -> None:
    """Authenticated media without an access token: 401 M_MISSING_TOKEN."""
    alice = await clients.user("alice")
    origin, media_id = await _upload(http, clients.server, alice, b"private notes",
                                     "text/plain", "notes.txt")

    response = await http.get(_download_url(clients.server, origin, media_id))

    assert response.status_code == 401
    assert response.json()["errcode"] == "M_MISSING_TOKEN"


async def test_download_by_other_user_allowed(
    clients: ClientFactory, http: httpx.AsyncClient
) -> None:
    """Media is server-wide: Bob, who shares no room with Alice, downloads her upload."""
    alice = await clients.user("alice")
    bob = await clients.user("bob")
    origin, media_id = await _upload(http, clients.server, alice, b"hello, world\n",
                                     "text/plain", "hello.txt")

    response = await http.get(_download_url(clients.server, origin, media_id),
                              headers=_auth(bob))

    assert response.status_code == 200
    assert response.content == b"hello, world\n"
    # Synapse adds the charset to text types.
    assert response.headers["content-type"] == "text/plain; charset=UTF-8"


async def test_legacy_unauthenticated_download_refused(
    clients: ClientFactory, http: httpx.AsyncClient
) -> None:
    """The legacy /_matrix/media/v3 download and thumbnail answer 404 M_NOT_FOUND for new media."""
    alice = await clients.user("alice")
    origin, media_id = await _upload(http, clients.server, alice, _png(64, 64, (0, 0, 255)),
                                     "image/png", "blue.png")
    legacy = f"{clients.server.base_url}/_matrix/media/v3"

    for url, params in [
        (f"{legacy}/download/{seg(origin)}/{seg(media_id)}", {}),
        (f"{legacy}/thumbnail/{seg(origin)}/{seg(media_id)}", {"width": 32, "height": 32}),
    ]:
        for headers in ({}, _auth(alice)):  # refused with or without a token
            response = await http.get(url, params=params, headers=headers)
            assert response.status_code == 404, url
            assert response.json() == {"errcode": "M_NOT_FOUND", "error": "Not found"}


async def test_thumbnail_of_png(clients: ClientFactory, http: httpx.AsyncClient) -> None:
    """A 640x480 PNG gets a 32x32 cropped and a 320x240 scaled PNG thumbnail of its colour."""
    alice = await clients.user("alice")
    bob = await clients.user("bob")
    origin, media_id = await _upload(http, clients.server, alice, _png(640, 480, (200, 30, 30)),
                                     "image/png", "red.png")
    url = (f"{clients.server.base_url}/_matrix/client/v1/media/thumbnail/"
           f"{seg(origin)}/{seg(media_id)}")

    for method, size in [("crop", (32, 32)), ("scale", (320, 240))]:
        response = await http.get(
            url, params={"width": size[0], "height": size[1], "method": method},
            headers=_auth(bob),
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/png"
        thumbnail = Image.open(io.BytesIO(response.content))
        assert (thumbnail.format, thumbnail.size) == ("PNG", size)
        assert thumbnail.convert("RGB").getpixel((size[0] // 2, size[1] // 2)) == (200, 30, 30)

    response = await http.get(url, params={"width": 32, "height": 32})
    assert (response.status_code, response.json()["errcode"]) == (401, "M_MISSING_TOKEN")


async def test_media_config_reports_upload_limit(
    clients: ClientFactory, http: httpx.AsyncClient
) -> None:
    """Clients are told the upload limit: m.upload.size is 52428800 (50 MiB)."""
    alice = await clients.user("alice")

    response = await http.get(f"{clients.server.base_url}/_matrix/client/v1/media/config",
                              headers=_auth(alice))

    assert response.status_code == 200
    assert response.json() == {"m.upload.size": LIMIT}


async def test_upload_at_limit_accepted_over_limit_cut_off(
    clients: ClientFactory, http: httpx.AsyncClient
) -> None:
    """Exactly 50 MiB uploads; one byte more gets no HTTP answer: Synapse drops the connection.

    Synapse caps request bodies at max(12.5 MiB, max_upload_size) and aborts the connection as
    soon as a body passes that cap, so its own 413 M_TOO_LARGE is unreachable at 50M (see the
    small-limit test below for the 413).
    """
    alice = await clients.user("alice")
    admin = await clients.user("admin", admin=True)
    origin, media_id = await _upload(http, clients.server, alice, bytes(LIMIT),
                                     "application/octet-stream", "exactly-50M.bin")
    deleted = await http.delete(
        f"{clients.server.base_url}/_synapse/admin/v1/media/{seg(origin)}/{seg(media_id)}",
        headers=_auth(admin),
    )
    assert deleted.status_code == 200, deleted.text

    with pytest.raises(httpx.TransportError):
        await http.post(
            f"{clients.server.base_url}/_matrix/media/v3/upload", content=bytes(LIMIT + 1),
            headers={**_auth(alice), "Content-Type": "application/octet-stream"},
        )


@pytest.fixture
def small_limit_server(server_pool: ServerPool, engine: str) -> Homeserver:
    """A homeserver with media.max_upload_size=1M (under Synapse's body cap), from the pool."""
    return server_pool.get(engine, ("media.max_upload_size=1M",))


async def test_upload_over_small_limit_refused_413(
    small_limit_server: Homeserver, http: httpx.AsyncClient
) -> None:
    """With a 1M limit (under Synapse's body cap) one byte over gets 413 M_TOO_LARGE."""
    factory = ClientFactory(small_limit_server)
    try:
        alice = await factory.user("alice")
        config = await http.get(
            f"{small_limit_server.base_url}/_matrix/client/v1/media/config", headers=_auth(alice)
        )
        assert config.json() == {"m.upload.size": 1024 * 1024}

        response = await http.post(
            f"{small_limit_server.base_url}/_matrix/media/v3/upload",
            content=bytes(1024 * 1024 + 1),
            headers={**_auth(alice), "Content-Type": "application/octet-stream"},
        )

        assert response.status_code == 413
        assert response.json()["errcode"] == "M_TOO_LARGE"
        await _upload(http, small_limit_server, alice, bytes(1024 * 1024),
                      "application/octet-stream", "exactly-1M.bin")
    finally:
        await factory.close()
