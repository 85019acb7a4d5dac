"""Images are stored without EXIF/GPS, turned as their orientation said, on every upload path."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from tests.harness import media_samples as samples
from tests.harness.clients import ClientFactory, User
from tests.harness.server import Homeserver
from tests.integration.media_repo.media_http import Mxc, auth, download, uploaded


def _exif_of(data: bytes) -> dict[int, object]:
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    found: dict[int, object] = dict(exif)
    if samples.GPS_IFD in exif:
        found.update({samples.GPS_IFD: dict(exif.get_ifd(samples.GPS_IFD))})
    return found


async def _async_upload(http: httpx.AsyncClient, server: Homeserver, user: User, data: bytes,
                        content_type: str) -> Mxc:
    created = await http.post(f"{server.base_url}/_matrix/media/v1/create", headers=auth(user))
    assert created.status_code == 200, created.text
    mxc = Mxc.parse(created.json()["content_uri"])
    put = await http.put(f"{server.base_url}/_matrix/media/v3/upload/{mxc.path}",
                         content=data, headers={**auth(user), "Content-Type": content_type})
    assert put.status_code == 200, put.text
    return mxc


async def test_gps_and_camera_data_gone_after_upload(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """A JPEG with GPS, camera model and orientation 1 comes back with no EXIF at all."""
    alice = await clients.user("alice")
    original = samples.jpeg_with_gps()
    assert samples.GPS_IFD in _exif_of(original)
    mxc = await uploaded(http, homeserver, alice, original, "image/jpeg")
    stored = (await download(http, homeserver, alice, mxc)).content
    exif = _exif_of(stored)
    assert samples.GPS_IFD not in exif and 0x0110 not in exif
    assert Image.open(io.BytesIO(stored)).size == (64, 32)


async def test_orientation_applied_when_stripping(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """Orientation 6 (rotate 90° clockwise): the stored image is turned, and has no tag left."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, homeserver, alice, samples.jpeg_with_gps(64, 32, 6), "image/jpeg")
    stored = (await download(http, homeserver, alice, mxc)).content
    image = Image.open(io.BytesIO(stored))
    assert image.size == (32, 64)  # width and height swapped by the rotation
    assert _exif_of(stored).get(samples.ORIENTATION, 1) == 1
    assert samples.GPS_IFD not in _exif_of(stored)
    top = image.convert("RGB").getpixel((16, 4))
    assert isinstance(top, tuple) and top[2] > 150  # the blue left half is now on top


async def test_async_upload_path_strips_too(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """create + PUT /upload/<server>/<id> goes through the same pipeline as POST /upload."""
    alice = await clients.user("alice")
    mxc = await _async_upload(http, homeserver, alice, samples.jpeg_with_gps(), "image/jpeg")
    stored = (await download(http, homeserver, alice, mxc)).content
    assert samples.GPS_IFD not in _exif_of(stored)


async def test_async_upload_disguised_file_refused_and_id_stays_empty(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """A refused PUT leaves the created media ID without content (not yet uploaded)."""
    alice = await clients.user("alice")
    created = await http.post(f"{homeserver.base_url}/_matrix/media/v1/create",
                              headers=auth(alice))
    mxc = Mxc.parse(created.json()["content_uri"])
    put = await http.put(f"{homeserver.base_url}/_matrix/media/v3/upload/{mxc.path}",
                         content=samples.elf_binary(),
                         headers={**auth(alice), "Content-Type": "image/png"})
    assert put.status_code == 400 and put.json()["errcode"] == "M_INVALID_PARAM"
    response = await http.get(
        f"{homeserver.base_url}/_matrix/client/v1/media/download/{mxc.path}",
        params={"timeout_ms": 0}, headers=auth(alice))
    assert response.status_code == 504  # the spec's answer when the wait (0 ms) runs out
    assert response.json()["errcode"] == "M_NOT_YET_UPLOADED"


async def test_legacy_upload_paths_all_processed(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """r0, v1 and v3 upload paths: every one Synapse routes to its upload servlet strips."""
    alice = await clients.user("alice")
    for version in ("r0", "v1", "v3"):
        response = await http.post(f"{homeserver.base_url}/_matrix/media/{version}/upload",
                                   content=samples.jpeg_with_gps(),
                                   headers={**auth(alice), "Content-Type": "image/jpeg"})
        assert response.status_code == 200, (version, response.text)
        mxc = Mxc.parse(response.json()["content_uri"])
        stored = (await download(http, homeserver, alice, mxc)).content
        assert samples.GPS_IFD not in _exif_of(stored), version
