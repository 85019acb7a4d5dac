"""A stranger's failures lock the stranger out, not the owner (per account and address)."""

from __future__ import annotations

from tests.harness.clients import ClientFactory
from tests.harness.logins import enrol, password_login, totp_login, unique_address

WRONG = "not-the-password-1"
ACCOUNT_WIDE_LIMIT = 50  # 10 x auth.failed_login_limit


async def test_attacker_address_is_locked_and_the_owner_still_logs_in(
        clients: ClientFactory) -> None:
    """Five failures from one address: that address is locked out, the owner elsewhere is not."""
    server = clients.server
    owner = await clients.user("owner")
    attacker_address = unique_address("198.19.0")
    for _ in range(6):
        await password_login(server, owner.user_id, WRONG, forwarded_for=attacker_address)
    guessed = await password_login(server, owner.user_id, owner.password,
                                   forwarded_for=attacker_address)
    assert (guessed.status, guessed.errcode) == (403, "M_USER_LOCKED"), guessed
    at_home = await password_login(server, owner.user_id, owner.password,
                                   forwarded_for=unique_address("198.19.1"))
    assert at_home.status == 200 and at_home.body.get("access_token"), at_home
    still = await password_login(server, owner.user_id, owner.password,
                                 forwarded_for=attacker_address)
    assert still.errcode == "M_USER_LOCKED", still


async def test_account_wide_lock_lets_the_owner_in_with_a_second_factor(
        clients: ClientFactory) -> None:
    """Failures from many addresses lock the account; a password and a valid code still work."""
    server = clients.server
    owner = await clients.user("spread")
    app, _ = await enrol(server, owner.client.api.token, owner.password)
    for subnet in range(ACCOUNT_WIDE_LIMIT // 5):
        address = f"198.19.{10 + subnet}.7"
        for _ in range(5):
            failed = await password_login(server, owner.user_id, WRONG, forwarded_for=address)
            assert failed.status == 403, failed
    fresh = unique_address("198.19.200")
    without_code = await password_login(server, owner.user_id, owner.password,
                                        forwarded_for=fresh)
    assert (without_code.status, without_code.errcode) == (403, "M_USER_LOCKED"), without_code
    wrong_code = await totp_login(server, owner.user_id, owner.password, app.wrong_code(),
                                  forwarded_for=fresh)
    assert wrong_code.errcode == "M_USER_LOCKED", wrong_code
    with_code = await password_login(server, owner.user_id, owner.password + app.next_code(),
                                     forwarded_for=fresh)
    assert with_code.status == 200 and with_code.body.get("access_token"), with_code
