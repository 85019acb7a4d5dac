"""Login lockout: 5 failures from an address lock the account there; admin unlock; reset."""

from __future__ import annotations

from urllib.parse import quote

from tests.harness.clients import ClientFactory
from tests.harness.logins import (
    ADMIN_API,
    metric,
    metrics,
    password_login,
    request,
    totp_login,
    unique_address,
)

WRONG = "not-the-password-1"


async def test_lockout_after_five_failures_until_an_admin_unlocks(clients: ClientFactory) -> None:
    """The 6th attempt, right password or not, gets 403 M_USER_LOCKED; admin unlock ends it."""
    server = clients.server
    user = await clients.user("lock")
    admin = await clients.user("lockadmin", admin=True)
    before = metric(await metrics(server), "hearth_login_lockouts_total",
                    scope="account_address")

    for _ in range(5):
        failed = await password_login(server, user.user_id, WRONG)
        assert (failed.status, failed.errcode) == (403, "M_FORBIDDEN"), failed

    locked = await password_login(server, user.user_id, user.password)
    assert (locked.status, locked.errcode) == (403, "M_USER_LOCKED"), locked
    assert "locked until" in locked.body["error"] and "administrator" in locked.body["error"]
    assert 0 < locked.body["retry_after_ms"] <= 15 * 60_000
    assert locked.body["org.hearth.locked_until_ms"] > 0
    # The same answer for a wrong password (nothing tells a guesser which guess was right),
    # with the other login type, and through Synapse's own limiter, which has not fired.
    assert (await password_login(server, user.user_id, WRONG)).errcode == "M_USER_LOCKED"
    assert (await totp_login(server, user.user_id, user.password, "123456")).errcode \
        == "M_USER_LOCKED"
    assert metric(await metrics(server), "hearth_login_lockouts_total",
                  scope="account_address") == before + 1

    path = f"{ADMIN_API}/users/{quote(user.user_id)}"
    status = await request(server, "GET", path, token=admin.client.api.token)
    assert status.status == 200, status
    assert status.body["failed_attempts"] == 5 and status.body["locked_until_ms"]

    forbidden = await request(server, "POST", f"{path}/unlock", {}, token=user.client.api.token)
    assert (forbidden.status, forbidden.errcode) == (403, "M_FORBIDDEN")
    unlocked = await request(server, "POST", f"{path}/unlock", {}, token=admin.client.api.token)
    assert unlocked.status == 200, unlocked
    assert unlocked.body == {"user_id": user.user_id, "was_locked": True,
                             "failed_attempts_cleared": 5}

    assert (await password_login(server, user.user_id, user.password)).status == 200


async def test_successful_login_resets_the_failure_count(clients: ClientFactory) -> None:
    """Four failures, a success, four more: still not locked, the right password works."""
    server = clients.server
    user = await clients.user("reset")
    for _ in range(4):
        assert (await password_login(server, user.user_id, WRONG)).status == 403
    assert (await password_login(server, user.user_id, user.password)).status == 200
    for _ in range(4):
        assert (await password_login(server, user.user_id, WRONG)).errcode == "M_FORBIDDEN"
    assert (await password_login(server, user.user_id, user.password)).status == 200


async def test_failures_from_one_address_block_it(clients: ClientFactory) -> None:
    """Failures against several accounts from one address block it (429); others log in."""
    server = clients.server
    admin = await clients.user("ipadmin", admin=True)
    victims = [await clients.user("ipv") for _ in range(3)]
    target = await clients.user("ipok")
    address = unique_address()

    for victim in victims:  # 2 failures each: no account reaches 5, the address reaches 6
        for _ in range(2):
            failed = await password_login(server, victim.user_id, WRONG, forwarded_for=address)
            assert failed.errcode == "M_FORBIDDEN", failed

    blocked = await password_login(server, target.user_id, target.password,
                                   forwarded_for=address)
    assert (blocked.status, blocked.errcode) == (429, "M_LIMIT_EXCEEDED"), blocked
    assert address in blocked.body["error"] and blocked.body["retry_after_ms"] > 0
    elsewhere = await password_login(server, target.user_id, target.password,
                                     forwarded_for=unique_address("203.0.113"))
    assert elsewhere.status == 200, elsewhere

    unblocked = await request(server, "POST", f"{ADMIN_API}/addresses/{address}/unlock", {},
                              token=admin.client.api.token)
    assert unblocked.status == 200 and unblocked.body["was_blocked"], unblocked
    again = await password_login(server, target.user_id, target.password, forwarded_for=address)
    assert again.status == 200, again
