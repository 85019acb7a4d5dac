"""Profiles: a user's display name and avatar are visible to others, and only theirs to change."""

from __future__ import annotations

import struct
import zlib

import pytest
from mautrix.api import Method
from mautrix.errors import MatrixRequestError

from tests.harness.clients import ClientFactory


def tiny_png() -> bytes:
    """A valid 1x1 opaque red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte + one red pixel
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


async def test_profile_displayname_and_avatar_are_seen_by_others(clients: ClientFactory) -> None:
    """Alice sets a name and an uploaded avatar; Bob reads both and can fetch the image."""
    alice = await clients.user("alice")
    bob = await clients.user("bob")
    image = tiny_png()

    avatar = await alice.client.upload_media(image, mime_type="image/png", filename="me.png")
    assert avatar.startswith(f"mxc://{clients.server.server_name}/")
    await alice.client.set_displayname("Alice Liddell")
    await alice.client.set_avatar_url(avatar)

    profile = await bob.raw(Method.GET, f"/_matrix/client/v3/profile/{alice.user_id}")
    assert profile == {"displayname": "Alice Liddell", "avatar_url": avatar}
    member = await bob.client.get_profile(alice.user_id)
    assert (member.displayname, member.avatar_url) == ("Alice Liddell", avatar)
    assert await bob.client.download_media(avatar) == image


@pytest.mark.parametrize(("field", "value"), [
    ("displayname", "Mallory was here"),
    ("avatar_url", "mxc://localhost/notyours"),
])
async def test_profile_of_another_user_cannot_be_changed(
    clients: ClientFactory, field: str, value: str
) -> None:
    """Bob setting Alice's display name or avatar is refused M_FORBIDDEN; hers is unchanged."""
    alice = await clients.user("alice", displayname="Alice Liddell")
    bob = await clients.user("bob")
    before = await bob.raw(Method.GET, f"/_matrix/client/v3/profile/{alice.user_id}")

    with pytest.raises(MatrixRequestError) as refused:
        await bob.raw(Method.PUT, f"/_matrix/client/v3/profile/{alice.user_id}/{field}",
                      {field: value})
    # Synapse 1.163 answers 400 (not 403) with M_FORBIDDEN for these two fields.
    assert (refused.value.http_status, refused.value.errcode) == (400, "M_FORBIDDEN")
    assert refused.value.message == f"Cannot set another user's {field}"

    after = await alice.raw(Method.GET, f"/_matrix/client/v3/profile/{alice.user_id}")
    assert after == before
    assert after["displayname"] == "Alice Liddell"
