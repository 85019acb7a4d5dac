"""TOTP second factor: enrolment, login with the code both ways, recovery codes, admin reset."""

from __future__ import annotations

import re
from urllib.parse import quote

from tests.harness.accounts import with_password
from tests.harness.clients import ClientFactory
from tests.harness.logins import (
    ADMIN_API,
    MFA_API,
    MFA_FIELD,
    Authenticator,
    enrol,
    metric,
    metrics,
    password_login,
    request,
    totp_login,
)

RECOVERY = re.compile(r"^[a-z2-7]{5}-[a-z2-7]{5}$")


async def test_enrolment_then_login_with_the_code_both_ways(clients: ClientFactory) -> None:
    """API enrolment; then a password alone is refused, password+code and the TOTP type work."""
    server = clients.server
    user = await clients.user("totp")
    token = user.client.api.token
    enrolments = metric(await metrics(server), "hearth_mfa_enrolments_total", via="api")

    status = await request(server, "GET", f"{MFA_API}/status", token=token)
    assert (status.status, status.body["totp_enabled"], status.body["required"]) == (
        200, False, False)
    begun = await request(server, "POST", f"{MFA_API}/totp/begin", {}, token=token)
    assert begun.status == 200, begun
    assert begun.body["otpauth_uri"].startswith("otpauth://totp/Hearth:")
    assert f"secret={begun.body['secret']}" in begun.body["otpauth_uri"]
    app = Authenticator(begun.body["secret"])

    wrong = await request(server, "POST", f"{MFA_API}/totp/confirm",
                          {"code": app.wrong_code(), "password": user.password}, token=token)
    assert (wrong.status, wrong.errcode) == (400, "M_INVALID_PARAM"), wrong
    assert "does not match" in wrong.body["error"]
    bad_password = await request(server, "POST", f"{MFA_API}/totp/confirm",
                                 {"code": app.wrong_code(), "password": "not-it-1"}, token=token)
    assert (bad_password.status, bad_password.errcode) == (403, "M_FORBIDDEN"), bad_password
    confirmed = await request(server, "POST", f"{MFA_API}/totp/confirm",
                              {"code": app.next_code(), "password": user.password}, token=token)
    assert confirmed.status == 200, confirmed
    codes = confirmed.body["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10 and all(RECOVERY.match(c) for c in codes)
    assert metric(await metrics(server), "hearth_mfa_enrolments_total",
                  via="api") == enrolments + 1

    status = await request(server, "GET", f"{MFA_API}/status", token=token)
    assert (status.body["totp_enabled"], status.body["recovery_codes_left"]) == (True, 10)
    again = await request(server, "POST", f"{MFA_API}/totp/begin", {}, token=token)
    assert (again.status, again.errcode) == (403, "M_FORBIDDEN"), again

    alone = await password_login(server, user.user_id, user.password)
    assert (alone.status, alone.errcode, alone.body[MFA_FIELD]) == (
        403, "M_FORBIDDEN", "code_required"), alone
    assert "6-digit code" in alone.body["error"]

    code = app.next_code()
    appended = await password_login(server, user.user_id, user.password + code)
    assert appended.status == 200, appended
    replayed = await totp_login(server, user.user_id, user.password, code)
    assert (replayed.status, replayed.body.get(MFA_FIELD)) == (403, "invalid_code"), replayed
    separate = await totp_login(server, user.user_id, user.password, app.next_code())
    assert separate.status == 200, separate
    assert separate.body["user_id"] == user.user_id and MFA_FIELD not in separate.body


async def test_wrong_code_is_refused_and_counts_as_a_failure(clients: ClientFactory) -> None:
    """A wrong code (appended or separate) is 403 invalid_code and counts towards lockout."""
    server = clients.server
    user = await clients.user("totpwrong")
    admin = await clients.user("totpadmin", admin=True)
    app, _ = await enrol(server, user.client.api.token, user.password)

    appended = await password_login(server, user.user_id, user.password + app.wrong_code())
    assert (appended.status, appended.errcode, appended.body[MFA_FIELD]) == (
        403, "M_FORBIDDEN", "invalid_code"), appended
    separate = await totp_login(server, user.user_id, user.password, app.wrong_code())
    assert (separate.status, separate.body[MFA_FIELD]) == (403, "invalid_code"), separate
    assert "wrong, expired or already used" in separate.body["error"]
    wrong_password = await totp_login(server, user.user_id, "not-it-1", app.next_code())
    assert (wrong_password.status, wrong_password.errcode) == (403, "M_FORBIDDEN")
    assert MFA_FIELD not in wrong_password.body

    status = await request(server, "GET", f"{ADMIN_API}/users/{quote(user.user_id)}",
                           token=admin.client.api.token)
    assert status.body["failed_attempts"] == 3, status


async def test_recovery_code_logs_in_once(clients: ClientFactory) -> None:
    """A recovery code works once, separately or appended with its dash; then it is spent."""
    server = clients.server
    user = await clients.user("recover")
    _, codes = await enrol(server, user.client.api.token, user.password)

    first = await totp_login(server, user.user_id, user.password, codes[0].upper())
    assert first.status == 200, first
    reused = await totp_login(server, user.user_id, user.password, codes[0])
    assert (reused.status, reused.body.get(MFA_FIELD)) == (403, "invalid_code"), reused
    appended = await password_login(server, user.user_id, user.password + codes[1])
    assert appended.status == 200, appended

    status = await request(server, "GET", f"{MFA_API}/status", token=user.client.api.token)
    assert status.body["recovery_codes_left"] == 8


async def test_admin_resets_the_second_factor(clients: ClientFactory) -> None:
    """Only an admin may reset a user's TOTP; afterwards the password alone logs in."""
    server = clients.server
    user = await clients.user("reset2fa")
    admin = await clients.user("resetadmin", admin=True)
    await enrol(server, user.client.api.token, user.password)
    path = f"{ADMIN_API}/users/{quote(user.user_id)}/mfa/reset"

    refused = await request(server, "POST", path, {}, token=user.client.api.token)
    assert (refused.status, refused.errcode) == (403, "M_FORBIDDEN"), refused
    reset = await request(server, "POST", path, {}, token=admin.client.api.token)
    assert reset.status == 200 and reset.body == {"user_id": user.user_id,
                                                  "totp_removed": True}, reset
    assert (await password_login(server, user.user_id, user.password)).status == 200


async def test_enrolled_user_changes_password_with_uia(clients: ClientFactory) -> None:
    """Re-authentication (UIA) takes the password alone; the new password then needs the code."""
    server = clients.server
    user = await clients.user("pw2fa")
    app, _ = await enrol(server, user.client.api.token, user.password)
    new_password = "a-changed-passphrase-77"

    changed = await with_password(
        server, "POST", "/_matrix/client/v3/account/password", {"new_password": new_password},
        token=user.client.api.token, user_id=user.user_id, password=user.password)
    assert (changed.status, changed.body) == (200, {}), changed
    assert (await password_login(server, user.user_id, new_password)).body[MFA_FIELD] \
        == "code_required"
    login = await password_login(server, user.user_id, new_password + app.next_code())
    assert login.status == 200, login
