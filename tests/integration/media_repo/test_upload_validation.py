"""Uploads: the type read from the content, the allow-lists, and malformed or disguised files."""

from __future__ import annotations

import io
import os

import httpx
import pytest
from PIL import Image

from tests.harness import media_samples as samples
from tests.harness.clients import ClientFactory
from tests.harness.roles import user_with_role
from tests.harness.server import Homeserver
from tests.integration.media_repo.media_http import (
    Mxc,
    download,
    info,
    refusal,
    upload,
    uploaded,
)

ALLOWED = [
    ("jpeg", samples.still, ("JPEG",), "image/jpeg"),
    ("png", samples.still, ("PNG",), "image/png"),
    ("gif", samples.animated, ("GIF",), "image/gif"),
    ("webp", samples.animated, ("WEBP",), "image/webp"),
    ("avif", samples.still, ("AVIF",), "image/avif"),
    ("mp4", samples.mp4_video, (), "video/mp4"),
    ("webm", samples.webm_video, (), "video/webm"),
    ("ogg", samples.ogg_voice, (), "audio/ogg"),
    ("pdf", samples.pdf_document, (), "application/pdf"),
]


@pytest.mark.parametrize(("name", "make", "args", "mime"), ALLOWED, ids=[a[0] for a in ALLOWED])
async def test_allowed_format_uploaded_thumbnailed_and_downloaded_by_real_client(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient, name: str,
    make: object, args: tuple[str, ...], mime: str,
) -> None:
    """Each allowed format goes up and comes back through mautrix, stored with the type read
    from its content; images and videos have a thumbnail."""
    alice = await clients.user("alice")
    data = make(*args)  # type: ignore[operator]
    uri = await alice.client.upload_media(data, mime_type="application/octet-stream",
                                          filename=f"sample.{name}")
    back = await alice.client.download_media(uri)
    if name in ("mp4", "webm", "ogg", "pdf", "png", "gif", "webp"):
        assert back == data  # nothing to strip: the bytes are kept as they came
    else:
        assert Image.open(io.BytesIO(back)).size == Image.open(io.BytesIO(data)).size
    described = await info(http, homeserver, alice, Mxc.parse(str(uri)))
    assert described.json()["mimetype"] == mime
    if mime.startswith(("image/", "video/")):
        thumb = await alice.client.download_thumbnail(uri, 96, 96, resize_method="crop")
        width, height = Image.open(io.BytesIO(thumb)).size
        assert 0 < width <= 96 and 0 < height <= 96


async def test_declared_type_replaced_by_content_type(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """A PNG sent as image/jpeg (same family) is stored and served as image/png."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, homeserver, alice, samples.still("PNG"), "image/jpeg")
    response = await download(http, homeserver, alice, mxc)
    assert response.headers["content-type"] == "image/png"


async def test_encrypted_attachment_opaque_bytes_kept(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """An E2EE attachment (random bytes, application/octet-stream) is stored untouched."""
    alice = await clients.user("alice")
    data = os.urandom(300_000)
    mxc = await uploaded(http, homeserver, alice, data, "application/octet-stream")
    response = await download(http, homeserver, alice, mxc)
    assert response.status_code == 200 and response.content == data


DISGUISED = [
    ("elf_as_png", samples.elf_binary, "image/png"),
    ("html_as_jpeg", samples.html_page, "image/jpeg"),
    ("pdf_as_gif", samples.pdf_document, "image/gif"),
    ("png_as_video", lambda: samples.still("PNG"), "video/mp4"),
]


@pytest.mark.parametrize(("name", "make", "declared"), DISGUISED, ids=[d[0] for d in DISGUISED])
async def test_disguised_file_refused(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient, name: str,
    make: object, declared: str,
) -> None:
    """Content that is not what its Content-Type says: 400 M_INVALID_PARAM naming both."""
    alice = await clients.user("alice")
    response = await upload(http, homeserver, alice, make(), declared)  # type: ignore[operator]
    error = refusal(response, 400, "M_INVALID_PARAM")
    assert declared in error


NOT_ALLOWED = [
    ("elf", samples.elf_binary, "application/octet-stream"),
    ("svg", samples.svg_image, "image/svg+xml"),
    ("html", samples.html_page, "text/html"),
    ("elf_no_type", samples.elf_binary, None),
]


@pytest.mark.parametrize(("name", "make", "declared"), NOT_ALLOWED,
                         ids=[n[0] for n in NOT_ALLOWED])
async def test_type_outside_allow_list_refused(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient, name: str,
    make: object, declared: str | None,
) -> None:
    """Executables, SVG and HTML are not on the server's list: 403 M_FORBIDDEN naming it."""
    alice = await clients.user("alice")
    response = await upload(http, homeserver, alice, make(), declared)  # type: ignore[operator]
    error = refusal(response, 403, "M_FORBIDDEN")
    assert "may not be uploaded" in error


MALFORMED = [
    ("png", lambda: samples.truncated(samples.still("PNG", 300, 300)), "image/png"),
    ("jpeg", lambda: samples.truncated(samples.jpeg_with_gps(400, 300)), "image/jpeg"),
    ("gif", lambda: samples.truncated(samples.animated("GIF", 6, 120)), "image/gif"),
    ("webp", lambda: samples.truncated(samples.still("WEBP", 300, 300)), "image/webp"),
    ("mp4", lambda: samples.truncated(samples.mp4_video(), 0.3), "video/mp4"),
]


@pytest.mark.parametrize(("name", "make", "declared"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_truncated_file_refused(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient, name: str,
    make: object, declared: str,
) -> None:
    """A cut-off image or video: 400 M_INVALID_PARAM, and nothing stored for the user."""
    alice = await clients.user("alice")
    response = await upload(http, homeserver, alice, make(), declared)  # type: ignore[operator]
    refusal(response, 400, "M_INVALID_PARAM")


async def test_decompression_bomb_refused_before_decoding(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """A 100 KB PNG of 900 M pixels: 413 M_TOO_LARGE saying how many pixels are allowed."""
    alice = await clients.user("alice")
    response = await upload(http, homeserver, alice, samples.png_bomb(), "image/png")
    error = refusal(response, 413, "M_TOO_LARGE")
    assert "pixels" in error


async def test_video_codec_outside_allow_list_refused(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """MPEG-2 video in Matroska: 403 M_FORBIDDEN naming the codec."""
    alice = await clients.user("alice")
    response = await upload(http, homeserver, alice, samples.mpeg2_video(), "video/x-matroska")
    error = refusal(response, 403, "M_FORBIDDEN")
    assert "mpeg2video" in error


async def test_role_allow_list_narrower_than_server(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """The test policy's bot role may upload text only: a PNG is refused naming the role."""
    bot = await user_with_role(clients, "bot")
    ok = await upload(http, homeserver, bot, b"plain words", "text/plain")
    assert ok.status_code == 200, ok.text
    response = await upload(http, homeserver, bot, samples.still("PNG"), "image/png")
    error = refusal(response, 403, "M_FORBIDDEN")
    assert "'bot'" in error


async def test_guest_role_refused_before_inspection(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """A role without media.upload is refused with the policy's 403 whatever the file."""
    guest = await user_with_role(clients, "guest")
    response = await upload(http, homeserver, guest, samples.png_bomb(), "image/png")
    error = refusal(response, 403, "M_FORBIDDEN")
    assert "media.upload" in error


async def test_upload_without_token_refused(
    homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """No access token: 401 M_MISSING_TOKEN, as Synapse answers."""
    response = await http.post(f"{homeserver.base_url}/_matrix/media/v3/upload",
                               content=samples.still("PNG"), headers={"Content-Type": "image/png"})
    refusal(response, 401, "M_MISSING_TOKEN")
