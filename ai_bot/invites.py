"""Invites to the bot: join when the inviter may use the AI, decline (with a reason) if not,
or if the access policy cannot say (fail closed: the inviter may invite again).

Joining is retried a few times (a homeserver that is restarting refuses it for a moment); an
invite that still could not be accepted is tried again if it is delivered again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from hearth.ai_bot import strings
from hearth.ai_bot.matrix.protocols import Memberships
from hearth.ai_bot.metrics import ACCESS_REFUSALS
from hearth.ai_bot.permissions import AccessPolicy, RoleUnknown

logger = logging.getLogger(__name__)

JOIN_ATTEMPTS = 5


class Invites:
    """Answers each invite once."""

    def __init__(self, memberships: Memberships, policy: AccessPolicy, bot_user_id: str, *,
                 pause: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.memberships = memberships
        self.policy = policy
        self.bot_user_id = bot_user_id
        self.pause = pause
        self._handled: set[str] = set()

    async def on_invite(self, room_id: str, sender: str, invitee: str, membership: str) -> None:
        if invitee != self.bot_user_id or membership != "invite" or room_id in self._handled:
            return
        self._handled.add(room_id)
        try:
            access = await self.policy.access(sender)
        except RoleUnknown:
            ACCESS_REFUSALS.labels("role_unknown").inc()
            logger.info("declining invite to %s from %s: role unknown", room_id, sender)
            self._handled.discard(room_id)
            with contextlib.suppress(Exception):
                await self.memberships.leave_room(room_id, strings.INVITE_ROLE_UNKNOWN_REASON)
            return
        if access.use_ai:
            logger.info("joining %s (invited by %s)", room_id, sender)
            for attempt in range(JOIN_ATTEMPTS):
                if await self.memberships.join_room(room_id):
                    return
                await self.pause(2 ** attempt)
            self._handled.discard(room_id)
            return
        ACCESS_REFUSALS.labels("no_ai").inc()
        logger.info("declining invite to %s from %s", room_id, sender)
        with contextlib.suppress(Exception):
            await self.memberships.leave_room(room_id, strings.INVITE_REFUSED_REASON)
