"""Pure decisions: each permission allowed for one role and refused, by name, for another."""

from __future__ import annotations

from hearth.render import PROJECT_DIR
from hearth.synapse_modules.access_policy import decisions, load_policy

POLICY = load_policy(PROJECT_DIR / "config" / "policy.yaml")
MEMBER, GUEST, BOT, ADMIN, MODERATOR = (
    POLICY.role(n) for n in ("member", "guest", "bot", "admin", "moderator"))


def test_create_room_checks_create_then_public_then_directory() -> None:
    """Guests may not create rooms; bots may, but not public ones or listed ones."""
    assert decisions.may_create_room(MEMBER, is_public=True, publishes=False).allowed
    assert decisions.may_create_room(MODERATOR, is_public=True, publishes=True).allowed
    assert decisions.may_create_room(MEMBER, is_public=True,
                                     publishes=True).permission == "publish_to_directory"
    refused = decisions.may_create_room(GUEST, is_public=False, publishes=False)
    assert (refused.allowed, refused.permission, refused.status) == (False, "create_rooms", 403)
    assert "create_rooms" in refused.message and "'guest'" in refused.message
    assert decisions.may_create_room(BOT, is_public=False, publishes=False).allowed
    assert decisions.may_create_room(BOT, is_public=True,
                                     publishes=False).permission == "create_public_rooms"


def test_publish_invite_and_state_events() -> None:
    """Directory, invites and state-event patterns each name their permission."""
    assert decisions.may_publish_room(MODERATOR).allowed
    assert decisions.may_publish_room(MEMBER).permission == "publish_to_directory"
    assert decisions.may_invite(BOT).allowed
    assert decisions.may_invite(GUEST).permission == "invite"
    assert decisions.may_send_state_event(BOT, "m.room.topic").allowed
    refused = decisions.may_send_state_event(BOT, "m.room.power_levels")
    assert refused.permission == "send_state_events" and "m.room.power_levels" in refused.message


def test_join_checks_remote_then_public() -> None:
    """Remote rooms need join_remote_rooms; joining without invite needs join_public_rooms."""
    assert decisions.may_join_room(MEMBER, is_invited=False, is_remote=True).allowed
    assert decisions.may_join_room(GUEST, is_invited=False, is_remote=False).allowed
    assert decisions.may_join_room(GUEST, is_invited=True,
                                   is_remote=True).permission == "join_remote_rooms"
    assert decisions.may_join_room(BOT, is_invited=True, is_remote=False).allowed
    assert decisions.may_join_room(BOT, is_invited=False,
                                   is_remote=False).permission == "join_public_rooms"


def test_media_upload_size_and_quota() -> None:
    """No upload at all is 403; too large and over the quota are 413 M_TOO_LARGE."""
    assert decisions.may_upload_media(MEMBER, size=10**9, used=10**12).allowed
    assert decisions.may_upload_media(GUEST, size=1, used=0).permission == "media.upload"
    too_large = decisions.may_upload_media(BOT, size=21 * 1024**2, used=0)
    assert (too_large.status, too_large.errcode) == (413, "M_TOO_LARGE")
    assert "20 MB" in too_large.message and "media.max_upload_size" in too_large.message
    over = decisions.may_upload_media(BOT, size=2, used=5 * 1024**3 - 1)
    assert (over.permission, over.status, over.errcode) == ("media.quota", 413, "M_TOO_LARGE")
    assert decisions.may_upload_media(BOT, size=1, used=5 * 1024**3 - 1).allowed


def test_ai_use_model_and_budget() -> None:
    """What the bot enforces: AI at all, which model, and the daily token budget."""
    assert decisions.may_use_ai(MEMBER, model="gpt-4o-mini", tokens_used_today=10).allowed
    assert decisions.may_use_ai(MEMBER, model="gpt-4.1").permission == "ai.models"
    assert decisions.may_use_ai(GUEST, model="gpt-4o-mini").permission == "ai.enabled"
    assert decisions.may_use_ai(MEMBER, model="gpt-4o-mini",
                                tokens_used_today=200_000).permission == "ai.daily_token_budget"
    assert decisions.may_use_ai(ADMIN, model="o3", tokens_used_today=10**9).allowed


def test_users_per_role_counts_unassigned_as_default_and_guests_as_guest_role() -> None:
    """The gauge's arithmetic: unknown stored roles count as the default role."""
    counts = decisions.users_per_role(POLICY, {"bot": 2, "gone": 1}, unassigned_members=5,
                                      unassigned_guests=3)
    assert counts == {"admin": 0, "bot": 2, "guest": 3, "member": 6, "moderator": 0}
