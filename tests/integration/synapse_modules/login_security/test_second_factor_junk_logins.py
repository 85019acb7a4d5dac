"""No junk traffic makes the login check forget a verdict: no token without the code."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.harness.accounts import CLIENT_V3
from tests.harness.clients import ClientFactory
from tests.harness.logins import MFA_FIELD, enrol, password_login, request, unique_address
from tests.harness.server_pool import ServerPool

# The production worker cluster: its tests share one test process (tests/conftest.py).
pytestmark = pytest.mark.cluster

WRONG = "not-the-password-1"
ROUNDS = 40


async def test_junk_logins_and_uia_never_skip_the_second_factor(clients: ClientFactory) -> None:
    """Failed logins and UIA calls interleaved with the right password: always code_required."""
    server = clients.server
    enrolled = await clients.user("junkmfa")
    await enrol(server, enrolled.client.api.token, enrolled.password)
    other = await clients.user("junkother")
    token = other.client.api.token
    for _ in range(ROUNDS):
        nobody = f"@nobody{secrets.token_hex(4)}:localhost"
        await password_login(server, nobody, WRONG, forwarded_for=unique_address("198.20.0"))
        await password_login(server, other.user_id, WRONG,
                             forwarded_for=unique_address("198.20.1"))
        first = await request(server, "POST", f"{CLIENT_V3}/delete_devices", {"devices": []},
                              token=token)
        await request(server, "POST", f"{CLIENT_V3}/delete_devices", {
            "devices": [], "auth": {"type": "m.login.password", "session": first.body.get(
                "session"), "identifier": {"type": "m.id.user", "user": other.user_id},
                "password": WRONG}}, token=token)
        await request(server, "POST", CLIENT_V3 + "/login", {"type": "m.login.token",
                                                             "token": "junk"})
        login = await password_login(server, enrolled.user_id, enrolled.password)
        assert (login.status, login.body.get(MFA_FIELD)) == (403, "code_required"), login
        assert "access_token" not in login.body


async def test_second_factor_required_on_a_worker(server_pool: ServerPool) -> None:
    """With workers, a login sent to the generic worker still needs the code."""
    cluster = server_pool.workers()
    clients = ClientFactory(cluster.server)
    try:
        user = await clients.user("workermfa")
        app, _ = await enrol(cluster.server, user.client.api.token, user.password)
        body = {"type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": user.user_id}}
        async with httpx.AsyncClient(base_url=cluster.generic_url, timeout=30.0) as http:
            plain = await http.post(f"{CLIENT_V3}/login", json={**body,
                                                                "password": user.password})
            assert plain.status_code == 403 and plain.json().get(MFA_FIELD) == "code_required", \
                plain.text
            coded = await http.post(f"{CLIENT_V3}/login", json={
                **body, "password": user.password + app.next_code()})
            assert coded.status_code == 200 and coded.json().get("access_token"), coded.text
    finally:
        await clients.close()
