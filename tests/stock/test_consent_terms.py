"""Terms-of-service consent, switched on by one setting, blocks sending until the user agrees."""

from __future__ import annotations

import re

import httpx

from hearth.synapse_admin import register_user
from tests.harness.server_pool import ServerPool


def test_consent_required_then_given(server_pool: ServerPool, engine: str) -> None:
    """A new user gets M_CONSENT_NOT_GIVEN with a link; after agreeing there, sending works."""
    server = server_pool.get(engine, ("consent.enabled=true",))
    with httpx.Client(timeout=30) as http:
        account = register_user(server.base_url, server.shared_secret, "newcomer")
        http.headers["Authorization"] = f"Bearer {account.access_token}"
        room = http.post(f"{server.base_url}/_matrix/client/v3/createRoom", json={})
        assert room.status_code == 403
        refusal = room.json()
        assert refusal["errcode"] == "M_CONSENT_NOT_GIVEN"
        consent_uri = refusal["consent_uri"]
        assert consent_uri in refusal["error"]

        page = httpx.get(consent_uri, timeout=30)
        assert page.status_code == 200
        assert "Terms of service (version 1.0)" in page.text
        fields = dict(re.findall(r'name="([uvh])" value="([^"]*)"', page.text))
        assert set(fields) == {"u", "v", "h"}

        forged = httpx.post(f"{server.base_url}/_matrix/consent",
                            data={**fields, "h": "0" * len(fields["h"])}, timeout=30)
        assert forged.status_code == 403
        agreed = httpx.post(f"{server.base_url}/_matrix/consent", data=fields, timeout=30)
        assert agreed.status_code == 200 and "Thank you" in agreed.text

        again = http.post(f"{server.base_url}/_matrix/client/v3/createRoom", json={})
        assert again.status_code == 200, again.text
