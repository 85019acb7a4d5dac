"""Each permission of the policy, allowed for one role and refused (403, named) for another."""

from __future__ import annotations

from mautrix.errors import MatrixRequestError
from mautrix.types import EventType, RoomCreatePreset, RoomDirectoryVisibility

from tests.harness.calls import refused
from tests.harness.clients import ClientFactory
from tests.harness.roles import metric_value, set_role, user_with_role

# The roles come from tests/harness/policy.yaml: member may do what plain Synapse allows
# (everything but publishing to the directory, which moderators may); guest may join
# public rooms only; bot may create private rooms, invite, join when invited, set m.room.name,
# and upload up to 1K each, 3K in total.



def assert_names(error: MatrixRequestError, permission: str, role: str) -> None:
    assert f"(permission: {permission})" in error.message, error.message
    assert f"'{role}'" in error.message, error.message


async def public_room(clients: ClientFactory) -> str:
    owner = await clients.user("owner")
    room_id: str = await owner.client.create_room(preset=RoomCreatePreset.PUBLIC)
    return room_id


async def test_create_room_allowed_for_member_refused_for_guest(clients: ClientFactory) -> None:
    """Members create rooms; a guest gets 403 M_FORBIDDEN naming create_rooms."""
    member = await user_with_role(clients, "member")
    guest = await user_with_role(clients, "guest")
    assert (await member.client.create_room()).startswith("!")
    error = await refused(guest.client.create_room(), 403, "M_FORBIDDEN")
    assert_names(error, "create_rooms", "guest")


async def test_public_room_allowed_for_member_refused_for_bot(clients: ClientFactory) -> None:
    """A bot may create private rooms but not public ones (create_public_rooms)."""
    member = await user_with_role(clients, "member")
    bot = await user_with_role(clients, "bot")
    assert await member.client.create_room(preset=RoomCreatePreset.PUBLIC)
    assert await bot.client.create_room(preset=RoomCreatePreset.PRIVATE)
    error = await refused(bot.client.create_room(preset=RoomCreatePreset.PUBLIC), 403,
                          "M_FORBIDDEN")
    assert_names(error, "create_public_rooms", "bot")


async def test_directory_publish_allowed_for_moderator_refused_for_member(
    clients: ClientFactory,
) -> None:
    """Listing a room in the directory, later or at creation, needs publish_to_directory."""
    moderator = await user_with_role(clients, "moderator")
    member = await user_with_role(clients, "member")
    listed = await moderator.client.create_room(visibility=RoomDirectoryVisibility.PUBLIC)
    later = await moderator.client.create_room()
    await moderator.client.set_room_directory_visibility(later, RoomDirectoryVisibility.PUBLIC)
    for room_id in (listed, later):
        visibility = await moderator.client.get_room_directory_visibility(room_id)
        assert visibility == RoomDirectoryVisibility.PUBLIC
    member_room = await member.client.create_room()
    error = await refused(
        member.client.set_room_directory_visibility(member_room, RoomDirectoryVisibility.PUBLIC),
        403, "M_FORBIDDEN")
    assert_names(error, "publish_to_directory", "member")
    error = await refused(member.client.create_room(visibility=RoomDirectoryVisibility.PUBLIC),
                          403, "M_FORBIDDEN")
    assert_names(error, "publish_to_directory", "member")


async def test_invite_allowed_for_member_refused_for_guest(clients: ClientFactory) -> None:
    """Members invite; a guest in the same public room may not."""
    member = await user_with_role(clients, "member")
    guest = await user_with_role(clients, "guest")
    friend = await clients.user("friend")
    room_id = await member.client.create_room(preset=RoomCreatePreset.PUBLIC)
    await guest.client.join_room_by_id(room_id)
    await member.client.invite_user(room_id, friend.user_id)
    error = await refused(guest.client.invite_user(room_id, (await clients.user()).user_id),
                          403, "M_FORBIDDEN")
    assert_names(error, "invite", "guest")


async def test_join_without_invite_allowed_for_guest_refused_for_bot(
    clients: ClientFactory,
) -> None:
    """Guests join public rooms; bots need an invite (join_public_rooms) and then may join."""
    room_id = await public_room(clients)
    guest = await user_with_role(clients, "guest")
    bot = await user_with_role(clients, "bot")
    await guest.client.join_room_by_id(room_id)
    error = await refused(bot.client.join_room_by_id(room_id), 403, "M_FORBIDDEN")
    assert_names(error, "join_public_rooms", "bot")
    inviter = await user_with_role(clients, "member")
    invited_room = await inviter.client.create_room(invitees=[bot.user_id])
    await bot.client.join_room_by_id(invited_room)


async def test_join_remote_room_refused_for_guest_not_for_member(clients: ClientFactory) -> None:
    """A guest may not join rooms on other servers; a member gets past the policy."""
    # A closed loopback port as the other server: Synapse's federation fails at once.
    server = "127.0.0.1:1"
    remote_room = f"!somewhere:{server}"
    guest = await user_with_role(clients, "guest")
    member = await user_with_role(clients, "member")
    error = await refused(guest.client.join_room(remote_room, servers=[server], max_retries=0),
                          403, "M_FORBIDDEN")
    assert_names(error, "join_remote_rooms", "guest")
    try:
        await member.client.join_room(remote_room, servers=[server], max_retries=0)
    except MatrixRequestError as other:  # past the policy, Synapse tried federation
        assert "make_join" in other.message, other.message
    else:
        raise AssertionError("joining a room on an unreachable server succeeded")


async def test_state_events_allowed_by_pattern_refused_otherwise(clients: ClientFactory) -> None:
    """A bot may set m.room.name but not m.room.topic; a member may set both."""
    bot = await user_with_role(clients, "bot")
    member = await user_with_role(clients, "member")
    bot_room = await bot.client.create_room()
    await bot.client.send_state_event(bot_room, EventType.ROOM_NAME, {"name": "Bot room"})
    error = await refused(
        bot.client.send_state_event(bot_room, EventType.ROOM_TOPIC, {"topic": "no"}),
        403, "M_FORBIDDEN")
    assert_names(error, "send_state_events", "bot")
    assert "m.room.topic" in error.message
    member_room = await member.client.create_room()
    await member.client.send_state_event(member_room, EventType.ROOM_TOPIC, {"topic": "yes"})


async def test_media_upload_refused_for_guest_size_and_quota_for_bot(
    clients: ClientFactory,
) -> None:
    """Guests may not upload; bots may, up to 1K a file and 3K in total (both 413)."""
    member = await user_with_role(clients, "member")
    guest = await user_with_role(clients, "guest")
    bot = await user_with_role(clients, "bot")
    assert (await member.client.upload_media(b"x" * 5000, "text/plain")).startswith("mxc://")
    error = await refused(guest.client.upload_media(b"hello", "text/plain"), 403, "M_FORBIDDEN")
    assert_names(error, "media.upload", "guest")
    too_large = await refused(bot.client.upload_media(b"x" * 1500, "text/plain"), 413,
                              "M_TOO_LARGE")
    assert_names(too_large, "media.max_upload_size", "bot")
    for _ in range(3):
        await bot.client.upload_media(b"x" * 1000, "text/plain")
    over = await refused(bot.client.upload_media(b"x" * 100, "text/plain"), 413, "M_TOO_LARGE")
    assert_names(over, "media.quota", "bot")


async def test_media_config_reports_the_role_upload_limit(clients: ClientFactory) -> None:
    """/media/config tells each user the upload size that applies to their role."""
    bot = await user_with_role(clients, "bot")
    guest = await user_with_role(clients, "guest")
    assert (await bot.client.get_media_repo_config()).upload_size == 1024
    assert (await guest.client.get_media_repo_config()).upload_size == 0


async def test_server_admin_bypasses_room_checks_but_not_media(clients: ClientFactory) -> None:
    """Synapse lets server admins skip room checks whatever their role; uploads still count."""
    admin = await clients.user("opsadmin", admin=True)
    await set_role(clients.server, admin.user_id, "guest")
    assert await admin.client.create_room()
    await refused(admin.client.upload_media(b"x", "text/plain"), 403, "M_FORBIDDEN")


async def test_refusals_are_counted_by_permission(clients: ClientFactory) -> None:
    """hearth_policy_refusals_total{permission} grows with each refusal."""
    url = clients.server.metrics_url
    before = metric_value(url, "hearth_policy_refusals_total", permission="create_rooms")
    guest = await user_with_role(clients, "guest")
    await refused(guest.client.create_room(), 403, "M_FORBIDDEN")
    after = metric_value(url, "hearth_policy_refusals_total", permission="create_rooms")
    assert after == before + 1
