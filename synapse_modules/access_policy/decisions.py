"""Pure decisions: may this role do that? (no Synapse imports; callbacks adapt to these).

Every refusal names the permission in the policy that is missing, so a person reading the
error knows what to ask an admin for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hearth.synapse_modules.access_policy.policy import Policy, Role
from hearth.synapse_modules.access_policy.room_creation import JOIN_RULES, PUBLIC, RoomCreation


@dataclass(frozen=True)
class Decision:
    """Allow, or deny with the permission at fault, an HTTP status and a message."""

    allowed: bool
    permission: str = ""
    message: str = ""
    status: int = 403

    @property
    def errcode(self) -> str:
        return "M_TOO_LARGE" if self.status == 413 else "M_FORBIDDEN"


ALLOW = Decision(allowed=True)


def deny(role: Role, permission: str, doing: str, status: int = 403) -> Decision:
    """A refusal phrased as "<doing> is not allowed for role 'x' (permission: p)"."""
    return Decision(
        allowed=False,
        permission=permission,
        message=f"{doing} is not allowed for your role '{role.name}' (permission: {permission})",
        status=status,
    )


def may_create_room(role: Role, *, is_public: bool, publishes: bool) -> Decision:
    """Creating a room; a public one and listing it in the directory need more."""
    perms = role.permissions
    if not perms.create_rooms:
        return deny(role, "create_rooms", "Creating rooms")
    if is_public and not perms.create_public_rooms:
        return deny(role, "create_public_rooms", "Creating public rooms")
    if publishes and not perms.publish_to_directory:
        return deny(role, "publish_to_directory", "Publishing rooms to the room directory")
    return ALLOW


def may_create_room_as(role: Role, creation: RoomCreation) -> Decision:
    """Creating a room as the body describes it: its effective join rule and listing, its
    invites, and every state event the creator chose, each decided as on PUT /state."""
    decision = may_create_room(role, is_public=creation.is_public, publishes=creation.publishes)
    if not decision.allowed:
        return decision
    if creation.invites and not role.permissions.invite:
        return deny(role, "invite", "Inviting users")
    for state in creation.state:
        decision = may_send_state_event(role, state.event_type, state.state_key, state.content)
        if not decision.allowed:
            return decision
    return ALLOW


def may_publish_room(role: Role) -> Decision:
    """Adding a room to the public room directory."""
    if not role.permissions.publish_to_directory:
        return deny(role, "publish_to_directory", "Publishing rooms to the room directory")
    return ALLOW


def may_invite(role: Role) -> Decision:
    """Inviting someone to a room."""
    if not role.permissions.invite:
        return deny(role, "invite", "Inviting users")
    return ALLOW


def may_join_room(role: Role, *, is_invited: bool, is_remote: bool) -> Decision:
    """Joining a room: without an invite (a public room), and on another server, need more."""
    perms = role.permissions
    if is_remote and not perms.join_remote_rooms:
        return deny(role, "join_remote_rooms", "Joining rooms on other servers")
    if not is_invited and not perms.join_public_rooms:
        return deny(role, "join_public_rooms", "Joining rooms without an invite")
    return ALLOW


def may_send_state_event(role: Role, event_type: str, state_key: str = "",
                         content: Mapping[str, Any] | None = None) -> Decision:
    """Sending a state event of ``event_type`` (room name, topic, power levels, ...); a join
    rule ``public`` (state key "") opens the room to anyone, so it needs create_public_rooms.

    The one decision for state, at ``PUT /state`` and for what createRoom sets."""
    if not role.permissions.may_send_state_event(event_type):
        return deny(role, "send_state_events", f"Sending {event_type[:100]} state events")
    if (event_type == JOIN_RULES and state_key == "" and content is not None
            and content.get("join_rule") == PUBLIC and not role.permissions.create_public_rooms):
        return deny(role, "create_public_rooms", "Making a room public (join rule 'public')")
    return ALLOW


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def may_upload_media(role: Role, *, size: int, used: int) -> Decision:
    """Uploading ``size`` bytes when the user already stores ``used`` bytes."""
    media = role.permissions.media
    if not media.upload:
        return deny(role, "media.upload", "Uploading media")
    if media.max_upload_size is not None and size > media.max_upload_size:
        return deny(role, "media.max_upload_size",
                    f"Uploading files larger than {_mb(media.max_upload_size)}", status=413)
    if media.quota is not None and used + size > media.quota:
        return deny(role, "media.quota",
                    f"Storing more than {_mb(media.quota)} of media in total", status=413)
    return ALLOW


def may_use_ai(role: Role, *, model: str, tokens_used_today: int = 0) -> Decision:
    """Asking the AI bot to use ``model`` (enforced by the bot, decided here)."""
    ai = role.permissions.ai
    if not ai.enabled:
        return deny(role, "ai.enabled", "Using the AI assistant")
    if not ai.may_use_model(model):
        return deny(role, "ai.models", f"Using the model {model!r}")
    if ai.daily_token_budget is not None and tokens_used_today >= ai.daily_token_budget:
        return deny(role, "ai.daily_token_budget",
                    f"Using more than {ai.daily_token_budget} AI tokens a day")
    return ALLOW


def users_per_role(
    policy: Policy, assigned: Mapping[str, int], unassigned_members: int, unassigned_guests: int
) -> dict[str, int]:
    """Active users by effective role: assignments, then guests and the default for the rest.

    A stored role the policy no longer defines counts as the default role, as it resolves.
    """
    counts = dict.fromkeys(policy.role_names, 0)
    for role, count in assigned.items():
        key = role if policy.has_role(role) else policy.default_role
        counts[key] += count
    counts[policy.default_role] += unassigned_members
    counts[policy.guest_role or policy.default_role] += unassigned_guests
    return counts
