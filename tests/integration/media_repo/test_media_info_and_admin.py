"""The media-info endpoint, the media admin endpoints and the pipeline's metrics."""

from __future__ import annotations

import os
from urllib.parse import quote

import httpx

from tests.harness import media_samples as samples
from tests.harness.clients import ClientFactory
from tests.harness.logins import metric, metrics
from tests.harness.server import Homeserver
from tests.integration.media_repo.media_http import INFO, Mxc, auth, info, refusal, uploaded


async def test_info_of_image_gives_dimensions_and_blurhash(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """Another user asks: type, size, width, height and a blurhash of the stored image."""
    alice, bob = await clients.user("alice"), await clients.user("bob")
    mxc = await uploaded(http, homeserver, alice, samples.still("PNG", 120, 80), "image/png")
    response = await info(http, homeserver, bob, mxc)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["mimetype"], body["kind"], body["width"], body["height"]) == (
        "image/png", "image", 120, 80)
    assert isinstance(body["blurhash"], str) and len(body["blurhash"]) >= 6
    assert body["animated"] is False


async def test_info_of_video_gives_duration(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """A 2-second 320x240 MP4: its duration in milliseconds and its dimensions."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, homeserver, alice, samples.mp4_video(), "video/mp4")
    body = (await info(http, homeserver, alice, mxc)).json()
    assert (body["kind"], body["width"], body["height"]) == ("video", 320, 240)
    assert 1900 <= body["duration_ms"] <= 2200
    assert body["has_thumbnail"] is True


async def test_info_refusals(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """No token 401; unknown media 404; another server's media 404."""
    alice = await clients.user("alice")
    mxc = await uploaded(http, homeserver, alice, samples.still("PNG"), "image/png")
    refusal(await info(http, homeserver, None, mxc), 401, "M_MISSING_TOKEN")
    refusal(await info(http, homeserver, alice, Mxc(mxc.server, "nosuchmedia")), 404,
            "M_NOT_FOUND")
    refusal(await info(http, homeserver, alice, Mxc("other.example", mxc.media_id)), 404,
            "M_NOT_FOUND")


async def test_admin_usage_per_user_and_room(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """Files and bytes a user stores, and those a room's messages refer to."""
    alice = await clients.user("alice")
    data = os.urandom(12_345)
    mxc = await uploaded(http, homeserver, alice, data, "application/octet-stream")
    room_id = await alice.client.create_room()
    await alice.client.send_message_event(room_id, "m.room.message", {
        "msgtype": "m.file", "body": "blob", "url": f"mxc://{mxc.server}/{mxc.media_id}"})
    admin = {"Authorization": f"Bearer {homeserver.admin['access_token']}"}
    by_user = await http.get(f"{homeserver.base_url}{INFO}/admin/usage",
                             params={"user_id": alice.user_id}, headers=admin)
    assert by_user.json() == {"user_id": alice.user_id, "files": 1, "bytes": 12_345}
    by_room = await http.get(f"{homeserver.base_url}{INFO}/admin/usage",
                             params={"room_id": room_id}, headers=admin)
    assert by_room.json() == {"room_id": room_id, "files": 1, "bytes": 12_345}


async def test_admin_endpoints_refuse_non_admins_and_bad_input(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """A member gets 403 on every admin path; bad parameters get 400 naming them."""
    alice = await clients.user("alice")
    for path in ("usage?user_id=" + quote(alice.user_id), "stats", "refused"):
        response = await http.get(f"{homeserver.base_url}{INFO}/admin/{path}",
                                  headers=auth(alice))
        refusal(response, 403, "M_FORBIDDEN")
    admin = {"Authorization": f"Bearer {homeserver.admin['access_token']}"}
    refusal(await http.get(f"{homeserver.base_url}{INFO}/admin/usage", headers=admin), 400,
            "M_MISSING_PARAM")
    refusal(await http.get(f"{homeserver.base_url}{INFO}/admin/usage",
                           params={"room_id": "not-a-room"}, headers=admin),
            400, "M_INVALID_PARAM")
    refusal(await http.get(f"{homeserver.base_url}{INFO}/admin/refused",
                           params={"limit": "many"}, headers=admin), 400, "M_INVALID_PARAM")
    refusal(await http.get(f"{homeserver.base_url}{INFO}/admin/nothing", headers=admin), 404,
            "M_NOT_FOUND")


async def test_dedup_visible_in_stats(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """Two users upload the same bytes: two files, one distinct content more."""
    admin = {"Authorization": f"Bearer {homeserver.admin['access_token']}"}
    before = (await http.get(f"{homeserver.base_url}{INFO}/admin/stats", headers=admin)).json()
    data = os.urandom(5000)
    for name in ("alice", "bob"):
        user = await clients.user(name)
        await uploaded(http, homeserver, user, data, "application/octet-stream")
    after = (await http.get(f"{homeserver.base_url}{INFO}/admin/stats", headers=admin)).json()
    assert after["files"] - before["files"] == 2
    assert after["distinct_contents"] - before["distinct_contents"] == 1


async def test_metrics_count_uploads_and_refusals(
    clients: ClientFactory, homeserver: Homeserver, http: httpx.AsyncClient,
) -> None:
    """hearth_media_uploads_total and _refused_total move with what users did."""
    alice = await clients.user("alice")
    name = homeserver.server_name
    before = await metrics(homeserver)
    await uploaded(http, homeserver, alice, samples.still("PNG"), "image/png")
    await http.post(f"{homeserver.base_url}/_matrix/media/v3/upload",
                    content=samples.elf_binary(), headers=auth(alice))
    after = await metrics(homeserver)
    for series, labels in (("hearth_media_uploads_total", {"kind": "image"}),
                           ("hearth_media_uploads_refused_total",
                            {"reason": "type_not_allowed"})):
        assert (metric(after, series, server_name=name, **labels)
                == metric(before, series, server_name=name, **labels) + 1), series
