"""Roles that require MFA: a grace period, then enrolment on the page before logging in.

The test server requires a second factor of admins with a 7-day grace period. Waiting a
week is done by moving the stored start of the grace period back.
"""

from __future__ import annotations

import httpx

from tests.harness.clients import ClientFactory
from tests.harness.logins import (
    MFA_FIELD,
    MFA_PAGE,
    Authenticator,
    database_execute,
    metric,
    metrics,
    page_field,
    password_login,
)

WEEK_MS = 7 * 86_400_000


async def test_admin_gets_a_grace_period_then_must_enrol_on_the_page(
    clients: ClientFactory,
) -> None:
    """Logins within the grace period carry a notice; after it, only enrolled logins work."""
    server = clients.server
    admin = await clients.user("mfaadmin", admin=True)

    first = await password_login(server, admin.user_id, admin.password)
    assert first.status == 200, first
    notice = first.body[MFA_FIELD]
    assert notice["enrolment_required"] is True
    assert notice["enrolment_url"].endswith("/_synapse/client/hearth/mfa/")

    moved = database_execute(server, "UPDATE hearth_login_mfa_grace SET started_ts = "
                             "started_ts - ? WHERE user_id = ?", (WEEK_MS + 1, admin.user_id))
    assert moved == 1
    refused = await password_login(server, admin.user_id, admin.password)
    assert (refused.status, refused.errcode, refused.body[MFA_FIELD]) == (
        403, "M_FORBIDDEN", "enrolment_required"), refused
    assert "must use two-factor authentication" in refused.body["error"]
    assert refused.body["enrolment_url"] == notice["enrolment_url"]

    enrolments = metric(await metrics(server), "hearth_mfa_enrolments_total", via="page")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as browser:
        page = await browser.get(MFA_PAGE)
        assert page.status_code == 200
        csrf = page_field(page.text, "csrf_token")
        signed_in = await browser.post(MFA_PAGE, data={
            "action": "sign_in", "csrf_token": csrf, "user": admin.localpart,
            "password": admin.password})
        assert signed_in.status_code == 200, signed_in.text
        assert "<svg" in signed_in.text and "<script" not in signed_in.text
        app = Authenticator(_shown_secret(signed_in.text))
        done = await browser.post(MFA_PAGE, data={
            "action": "confirm", "csrf_token": csrf, "user": admin.user_id,
            "ticket": page_field(signed_in.text, "ticket"), "code": app.next_code()})
        assert done.status_code == 200, done.text
        assert done.text.count("<li>") >= 10 and "shown only once" in done.text
    assert metric(await metrics(server), "hearth_mfa_enrolments_total",
                  via="page") == enrolments + 1

    login = await password_login(server, admin.user_id, admin.password + app.next_code())
    assert login.status == 200 and MFA_FIELD not in login.body, login


def _shown_secret(html: str) -> str:
    start = html.index('<code class="secret">') + len('<code class="secret">')
    return html[start:html.index("</code>", start)].replace(" ", "")
