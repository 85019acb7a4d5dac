"""The AI bot's account, made by ``hearth run`` with the admin's powers so the bot needs none.

The bot process gets only a credential of its own: ``<bot data_dir>/credentials.json`` (0600,
user ID, password, device ID, tokens). It never reads ``admin-credentials.json`` or the
registration shared secret; this module, run by the command line before it starts the bot,
does what needs them:

1. No credentials file yet: the account is registered through the shared-secret admin API
   with Synapse's ``bot`` user type (what lets it read users' AI access from the access
   policy). If the name is taken (the file was lost), the admin API sets a new password,
   logging the old devices out, and the bot's credentials are made from a login with it.
2. With an admin token that still works: the account is made a ``bot`` (accounts from before)
   and exempted from Synapse's message rate limit (``override_ratelimit`` 0/0), which would
   stall streamed edits within seconds. Synapse stores both, so a later run whose admin token
   has expired loses nothing; it only cannot repair them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

import httpx

from hearth.ai_bot.provision import (
    Credentials,
    ProvisionError,
    load_credentials,
    password_login,
    save_credentials,
    token_works,
)
from hearth.synapse_admin import AdminError, AsyncAdmin

logger = logging.getLogger(__name__)

BOT_USER_TYPE = "bot"


class BotAccountError(RuntimeError):
    """The bot account could not be made ready; the message says why and what to do."""


@dataclass(frozen=True)
class BotAccount:
    """Which account the bot is and where its credential goes."""

    localpart: str
    displayname: str
    credentials_file: Path


@dataclass(frozen=True)
class BotAccountReady:
    """What ``ensure_bot_account`` found or did."""

    user_id: str
    created: bool
    exempt_from_rate_limit: bool | None  # None: not checked (no working admin token)


async def _register(admin: AsyncAdmin, account: BotAccount, shared_secret: str,
                    password: str) -> Credentials | None:
    """A new bot account; None when the name is taken."""
    try:
        made = await admin.register(shared_secret, account.localpart, password,
                                    account.displayname, BOT_USER_TYPE)
    except AdminError as exc:
        if exc.errcode == "M_USER_IN_USE":
            return None
        raise BotAccountError(str(exc)) from exc
    return Credentials(made.user_id, password, made.access_token, made.device_id)


async def _recover(http: httpx.AsyncClient, admin: AsyncAdmin, user_id: str,
                   password: str) -> Credentials:
    await admin.update_user(user_id, {"password": password, "logout_devices": True})
    try:
        return await password_login(http, user_id, password, None)
    except ProvisionError as exc:
        raise BotAccountError(str(exc)) from exc


async def ensure_bot_account(http: httpx.AsyncClient, account: BotAccount, shared_secret: str,
                             admin_token: str | None) -> BotAccountReady:
    """Make the bot account and its credential ready (idempotent)."""
    if admin_token is not None and not await token_works(http, admin_token):
        logger.warning("the admin token in admin-credentials.json no longer works")
        admin_token = None
    admin = AsyncAdmin(http, lambda: admin_token)
    stored = load_credentials(account.credentials_file)
    created = stored is None
    if stored is None:
        password = secrets.token_urlsafe(24)
        fresh = await _register(admin, account, shared_secret, password)
        if fresh is None:
            if admin_token is None:
                raise BotAccountError(
                    f"the account {account.localpart!r} exists but its credentials "
                    f"({account.credentials_file}) are lost, and there is no working admin "
                    "token to reset them; log in as an admin and reset its password, or "
                    "choose another ai_bot.localpart")
            whoami = await admin.whoami(admin_token)
            server = str((whoami or {}).get("user_id", ":")).split(":", 1)[1]
            fresh = await _recover(http, admin, f"@{account.localpart}:{server}", password)
        save_credentials(account.credentials_file, fresh)
        stored = fresh
    if admin_token is None:
        return BotAccountReady(stored.user_id, created, None)
    try:
        if (await admin.get_user(stored.user_id)).get("user_type") != BOT_USER_TYPE:
            await admin.update_user(stored.user_id, {"user_type": BOT_USER_TYPE})
        await admin.exempt_from_rate_limits(stored.user_id)
    except AdminError as exc:
        raise BotAccountError(str(exc)) from exc
    return BotAccountReady(stored.user_id, created, True)


def provision_bot_account(base_url: str, account: BotAccount, shared_secret: str,
                          admin_token: str | None) -> BotAccountReady:
    """``ensure_bot_account`` for synchronous callers (the command line, the tests)."""

    async def run() -> BotAccountReady:
        async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
            return await ensure_bot_account(http, account, shared_secret, admin_token)

    return asyncio.run(run())
