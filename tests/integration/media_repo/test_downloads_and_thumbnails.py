"""Downloads: byte ranges, AVIF/WebP thumbnails for clients that accept them, video posters."""

from __future__ import annotations

import io
import os

import httpx
import pytest
from PIL import Image

from tests.harness import media_samples as samples
from tests.harness.clients import ClientFactory
from tests.harness.server import Homeserver
from tests.integration.media_repo.media_http import (
    download,
    refusal,
    thumbnail,
    uploaded,
)

BROWSER_ACCEPT = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"


async def test_range_returns_the_slice(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """bytes=100-199, bytes=-50 and bytes=900000- give 206 with exactly those bytes."""
    alice = await clients.user("alice")
    data = os.urandom(1_000_000)
    mxc = await uploaded(http, homeserver, alice, data, "application/octet-stream")
    for header, expected, first, last in (("bytes=100-199", data[100:200], 100, 199),
                                          ("bytes=-50", data[-50:], 999_950, 999_999),
                                          ("bytes=900000-", data[900_000:], 900_000, 999_999)):
        response = await download(http, homeserver, alice, mxc, Range=header)
        assert response.status_code == 206, (header, response.text)
        assert response.content == expected
        assert response.headers["content-range"] == f"bytes {first}-{last}/1000000"


async def test_range_outside_file_refused_with_416(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """A range starting past the end: 416 with Content-Range: bytes */size."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, homeserver, alice, os.urandom(1000), "application/octet-stream")
    response = await download(http, homeserver, alice, mxc, Range="bytes=5000-6000")
    refusal(response, 416, "M_INVALID_PARAM")
    assert response.headers["content-range"] == "bytes */1000"


async def test_range_without_token_refused(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """The authenticated endpoint stays authenticated when we answer: 401 without a token."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, homeserver, alice, os.urandom(1000), "application/octet-stream")
    response = await http.get(
        f"{homeserver.base_url}/_matrix/client/v1/media/download/{mxc.path}",
        headers={"Range": "bytes=0-9"})
    refusal(response, 401, "M_MISSING_TOKEN")


@pytest.mark.parametrize(("accept", "mime"), [(BROWSER_ACCEPT, "image/avif"),
                                              ("image/webp,*/*", "image/webp")])
async def test_thumbnail_in_the_format_the_client_accepts(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient, accept: str,
    mime: str,
) -> None:
    """A browser-like Accept gets AVIF (or WebP) at Synapse's 320x240 scale size."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, homeserver, alice, samples.still("PNG", 1200, 900), "image/png")
    response = await thumbnail(http, homeserver, alice, mxc, 300, 200, Accept=accept)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == mime
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (320, 240)


async def test_thumbnail_without_accept_is_synapses(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """No Accept header: Synapse's own PNG/JPEG thumbnail, as before."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, homeserver, alice, samples.still("PNG", 1200, 900), "image/png")
    response = await thumbnail(http, homeserver, alice, mxc, 300, 200)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] in ("image/png", "image/jpeg")


async def test_animated_thumbnail_stays_animated(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """animated=true on an animated GIF with WebP accepted: an animated WebP thumbnail."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, homeserver, alice, samples.animated("GIF", 5, 400), "image/gif")
    response = await http.get(
        f"{homeserver.base_url}/_matrix/client/v1/media/thumbnail/{mxc.path}",
        params={"width": 96, "height": 96, "method": "crop", "animated": "true"},
        headers={"Authorization": f"Bearer {alice.client.api.token}", "Accept": "image/webp"})
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    assert getattr(image, "n_frames", 1) == 5


async def test_video_thumbnail_is_its_poster_frame(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """Synapse cannot thumbnail video; we answer with the poster frame at the asked size."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, homeserver, alice, samples.mp4_video(), "video/mp4")
    response = await thumbnail(http, homeserver, alice, mxc, 320, 240)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (320, 240)


async def test_download_headers_safe_for_browsers(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """A ranged answer carries Synapse's CSP sandbox, nosniff and an attachment disposition."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, homeserver, alice, b"%PDF-1.4\n" + os.urandom(2000),
                         "application/pdf", filename="report.pdf")
    response = await download(http, homeserver, alice, mxc, Range="bytes=0-99")
    assert response.status_code == 206
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment")
