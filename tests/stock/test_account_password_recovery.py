"""Password recovery by e-mail: request, mail, confirmation link, new password, refusals."""

from __future__ import annotations

import asyncio
import html
import re
import secrets
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.harness.accounts import (
    CLIENT_V3,
    Reply,
    call,
    login,
    offers_stage,
    start_uia,
    whoami,
)
from tests.harness.clients import ClientFactory, User
from tests.harness.server import Homeserver
from tests.harness.smtp import SmtpServer

REQUEST_TOKEN = f"{CLIENT_V3}/account/password/email/requestToken"
PASSWORD = f"{CLIENT_V3}/account/password"
SUBMIT_PATH = "/_synapse/client/password_reset/email/submit_token"
NEW_PASSWORD = "recovered-passphrase-2024"
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')


def fresh_address() -> str:
    return f"recover-{secrets.token_hex(4)}@example.org"


async def user_with_email(clients: ClientFactory, homeserver: Homeserver) -> tuple[User, str]:
    """A fresh user whose account has an e-mail address, added by the server admin."""
    user = await clients.user("recover")
    address = fresh_address()
    added = await call(homeserver, "PUT", f"/_synapse/admin/v2/users/{user.user_id}",
                       {"threepids": [{"medium": "email", "address": address}]},
                       token=homeserver.admin["access_token"])
    assert added.status == 200, added
    assert {"medium": "email", "address": address} in [
        {"medium": t["medium"], "address": t["address"]} for t in added.body["threepids"]
    ]
    return user, address


async def request_token(homeserver: Homeserver, address: str, client_secret: str) -> Reply:
    """Anonymous: ask for a password-reset mail to ``address``."""
    return await call(homeserver, "POST", REQUEST_TOKEN,
                      {"client_secret": client_secret, "email": address, "send_attempt": 1})


async def reset_requested(clients: ClientFactory, homeserver: Homeserver
                          ) -> tuple[User, str, str, str]:
    """A user with an address who asked for a reset mail: (user, address, client secret, sid
    the server answered with)."""
    user, address = await user_with_email(clients, homeserver)
    client_secret = secrets.token_hex(16)
    requested = await request_token(homeserver, address, client_secret)
    assert requested.status == 200, requested
    return user, address, client_secret, str(requested.body["sid"])


async def mail_to(smtp: SmtpServer, address: str) -> EmailMessage:
    """Wait (off the event loop) for the first mail to ``address``."""
    return await asyncio.to_thread(smtp.mailbox.wait_for, address, 30.0)


def reset_link(message: EmailMessage) -> str:
    """The confirmation link in the plain-text part of the password-reset mail."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    text = part.get_content()
    found = re.search(r"https?://\S+" + re.escape(SUBMIT_PATH) + r"\?\S+", text)
    assert found, text
    return html.unescape(found.group(0))


async def confirm(link: str) -> httpx.Response:
    """What a person does with the link: open it, then press the confirmation button."""
    async with httpx.AsyncClient(timeout=30.0) as browser:
        page = await browser.get(link)
        assert page.status_code == 200
        assert "Confirm changing my password" in page.text
        form = dict(HIDDEN_INPUT.findall(page.text))
        assert set(form) == {"sid", "token", "client_secret"}
        return await browser.post(link, data=form)


async def reset_with_email(homeserver: Homeserver, sid: str, client_secret: str) -> Reply:
    """Anonymous /account/password, proving ownership of the address through the UIA stage."""
    body = {"new_password": NEW_PASSWORD}
    challenge = await start_uia(homeserver, "POST", PASSWORD, body)
    assert offers_stage(challenge, "m.login.email.identity")
    auth = {"type": "m.login.email.identity",
            "threepid_creds": {"sid": sid, "client_secret": client_secret},
            "session": challenge.body["session"]}
    return await call(homeserver, "POST", PASSWORD, {**body, "auth": auth})


async def test_password_recovery_by_email_sets_new_password(
    clients: ClientFactory, homeserver: Homeserver, smtp: SmtpServer
) -> None:
    """The mailed link, once confirmed, lets an anonymous client set a new password."""
    user, address, client_secret, sid = await reset_requested(clients, homeserver)

    message = await mail_to(smtp, address)
    link = reset_link(message)
    assert link.startswith(f"{homeserver.base_url}{SUBMIT_PATH}?")
    query = parse_qs(urlsplit(link).query)
    assert query["sid"] == [sid]
    assert query["client_secret"] == [client_secret]

    confirmed = await confirm(link)
    assert confirmed.status_code == 200
    assert "Your email has now been validated" in confirmed.text

    reset = await reset_with_email(homeserver, sid, client_secret)
    assert (reset.status, reset.body) == (200, {})

    old = await login(homeserver, user.user_id, user.password)
    assert (old.status, old.errcode) == (403, "M_FORBIDDEN")
    new = await login(homeserver, user.user_id, NEW_PASSWORD)
    assert new.status == 200, new
    # A reset signs out every existing session (logout_devices defaults to true).
    ended = await whoami(homeserver, user.client.api.token)
    assert (ended.status, ended.errcode) == (401, "M_UNKNOWN_TOKEN")


async def test_password_recovery_for_unknown_address_does_not_reveal_it(
    clients: ClientFactory, homeserver: Homeserver, smtp: SmtpServer
) -> None:
    """An unknown address gets the same 200-with-sid answer as a known one, and no mail."""
    _, known = await user_with_email(clients, homeserver)
    unknown = fresh_address()

    for_unknown = await request_token(homeserver, unknown, secrets.token_hex(16))
    for_known = await request_token(homeserver, known, secrets.token_hex(16))

    assert for_unknown.status == for_known.status == 200
    assert set(for_unknown.body) == set(for_known.body) == {"sid"}
    assert isinstance(for_unknown.body["sid"], str) and for_unknown.body["sid"]
    await mail_to(smtp, known)
    # Mail is sent before requestToken answers, so none can still be on its way.
    assert not [m for m in smtp.mailbox.messages if unknown in str(m.get("To", ""))]


async def test_password_recovery_link_with_wrong_token_fails(
    clients: ClientFactory, homeserver: Homeserver, smtp: SmtpServer
) -> None:
    """A tampered link shows a failure page; the reset is refused and the password is kept."""
    user, address, client_secret, sid = await reset_requested(clients, homeserver)
    link = reset_link(await mail_to(smtp, address))
    real_token = parse_qs(urlsplit(link).query)["token"][0]
    wrong = {"sid": sid, "client_secret": client_secret, "token": real_token[::-1] + "x"}

    async with httpx.AsyncClient(timeout=30.0) as browser:
        failed = await browser.post(f"{homeserver.base_url}{SUBMIT_PATH}", params=wrong)
    assert failed.status_code == 400
    assert "Validation token not found or has expired" in failed.text
    assert "Your password has not been reset" in failed.text

    refused = await reset_with_email(homeserver, sid, client_secret)
    assert (refused.status, refused.errcode) == (401, "M_UNAUTHORIZED")
    assert refused.body["completed"] == []

    assert (await login(homeserver, user.user_id, NEW_PASSWORD)).status == 403
    assert (await login(homeserver, user.user_id, user.password)).status == 200
    assert (await whoami(homeserver, user.client.api.token)).status == 200
