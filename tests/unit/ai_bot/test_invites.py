"""Invites: joined when the inviter may use the AI, declined with a reason otherwise."""

from __future__ import annotations

from hearth.ai_bot import strings
from hearth.ai_bot.invites import Invites
from tests.unit.ai_bot.assembly import NO_AI, static_policy
from tests.unit.ai_bot.fake_matrix import ALICE, BOB, BOT, ROOM, FakeMatrix

CAROL = "@carol:localhost"  # the access policy cannot be asked about her
POLICY = static_policy({BOB: NO_AI}, unknown={CAROL})


def invites(matrix: FakeMatrix, pauses: list[float] | None = None) -> Invites:
    async def pause(seconds: float) -> None:
        (pauses if pauses is not None else []).append(seconds)
    return Invites(matrix, POLICY, BOT, pause=pause)


async def test_invites_joined_once_for_allowed_inviter() -> None:
    """The bot joins a room it is invited to by an AI user; a repeated invite is a no-op."""
    matrix = FakeMatrix()
    handler = invites(matrix)
    await handler.on_invite(ROOM, ALICE, BOT, "invite")
    await handler.on_invite(ROOM, ALICE, BOT, "invite")
    assert matrix.joined == [ROOM] and matrix.left == []


async def test_invites_declined_with_reason() -> None:
    """An inviter without AI access sees the invite declined, with the reason."""
    matrix = FakeMatrix()
    await invites(matrix).on_invite(ROOM, BOB, BOT, "invite")
    assert matrix.left == [(ROOM, strings.INVITE_REFUSED_REASON)] and matrix.joined == []


async def test_invites_join_retried_then_tried_again_later() -> None:
    """Joining is retried with growing pauses; after five refusals a new invite tries again."""
    matrix, pauses = FakeMatrix(), list[float]()
    matrix.join_failures = 5
    handler = invites(matrix, pauses)
    await handler.on_invite(ROOM, ALICE, BOT, "invite")
    assert matrix.joined == [] and pauses == [1, 2, 4, 8, 16]
    await handler.on_invite(ROOM, ALICE, BOT, "invite")
    assert matrix.joined == [ROOM]


async def test_invites_for_others_or_other_memberships_ignored() -> None:
    """Someone else's invite, or the bot's own join event, changes nothing."""
    matrix = FakeMatrix()
    handler = invites(matrix)
    await handler.on_invite(ROOM, ALICE, BOB, "invite")
    await handler.on_invite(ROOM, ALICE, BOT, "join")
    assert matrix.joined == [] and matrix.left == []


async def test_invites_declined_when_the_role_cannot_be_learnt() -> None:
    """An invite whose sender's role lookup fails is declined, saying why (fail closed)."""
    matrix = FakeMatrix()
    await invites(matrix).on_invite(ROOM, CAROL, BOT, "invite")
    assert matrix.left == [(ROOM, strings.INVITE_ROLE_UNKNOWN_REASON)] and matrix.joined == []
