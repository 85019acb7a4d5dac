"""The bot's session: its current tokens, renewed once per expiry for every caller.

Access tokens of a refreshable session expire after ``auth.refreshable_access_token_lifetime``
(15 minutes by default) and every session ends after ``auth.session_lifetime``. Any call that
meets 401 ``M_UNKNOWN_TOKEN`` asks ``renew`` with the token it used: the first such caller
refreshes (or, when the session has ended, logs in again with the bot's own password on the
same device), saves the credentials (0600) and tells the listeners (the nio client); the
others find the token already replaced and just retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import httpx

from hearth.ai_bot.provision import Credentials, renewed, save_credentials

logger = logging.getLogger(__name__)

Listener = Callable[[Credentials], None]


class Session:
    """The bot's credentials now, and their renewal."""

    def __init__(self, homeserver_url: str, path: Path, credentials: Credentials, *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.homeserver_url = homeserver_url
        self.path = path
        self.credentials = credentials
        self._transport = transport
        self._lock = asyncio.Lock()
        self._listeners: list[Listener] = []
        self.renewals = 0

    @property
    def token(self) -> str:
        return self.credentials.access_token

    def on_renewed(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def renew(self, failed: str) -> None:
        """Replace ``failed`` (the token a call was refused with) unless already replaced."""
        async with self._lock:
            if self.credentials.access_token != failed:
                return
            async with httpx.AsyncClient(base_url=self.homeserver_url, timeout=30.0,
                                         transport=self._transport) as http:
                fresh = await renewed(http, self.credentials)
            save_credentials(self.path, fresh)
            self.credentials = fresh
            self.renewals += 1
            logger.info("bot session renewed (device %s)", fresh.device_id)
            for listener in self._listeners:
                listener(fresh)
