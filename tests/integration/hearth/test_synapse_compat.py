"""Contracts of the Synapse internals we use, against a running Synapse on both databases.

The entries of ``synapse_compat.registry`` that need a server: Synapse's tables as Synapse
itself wrote them (read with the very queries the modules run), its HTTP resource classes as
they answer, and the resource tree and logging context as a real ``/login`` passes through.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from hearth.ai_bot.budget.db import Txn
from hearth.synapse_compat.password_hash import check_password
from hearth.synapse_compat.tables import (
    active_users_since_txn,
    count_users_by_role_txn,
    events_sent_after_txn,
    find_user_txn,
    last_stream_ordering_txn,
    media_bytes_txn,
)
from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory
from tests.harness.logins import (
    ADMIN_API,
    MFA_API,
    MFA_FIELD,
    MFA_PAGE,
    database_cursor,
    enrol,
    password_login,
    request,
    unique_address,
)
from tests.harness.server import Homeserver

T = TypeVar("T")
WRONG = "not-the-password-1"


def on_database(server: Homeserver, func: Callable[..., T], *args: Any) -> T:
    """Run a transaction function (``?`` placeholders) on the server's own database."""
    with database_cursor(server) as (cursor, engine):
        return func(Txn(cursor, engine), *args)


async def test_password_hash_stored_by_synapse_checks_right_and_wrong(
    clients: ClientFactory,
) -> None:
    """The users row Synapse wrote, found case-insensitively: our checker takes the right
    password and refuses a wrong one."""
    user = await clients.user("compathash")
    found = on_database(clients.server, find_user_txn, user.user_id.upper())
    assert found is not None and found[0] == user.user_id
    assert check_password(user.password, found[1])
    assert not check_password(WRONG, found[1])


async def test_users_table_counts_active_users_by_role(clients: ClientFactory) -> None:
    """Active members without an assignment are counted; a deactivated one stops counting."""
    server = clients.server
    before = on_database(server, count_users_by_role_txn, "hearth_policy_assignments")
    user = await clients.user("compatcount")
    admin = await clients.user("compatcountadmin", admin=True)
    after = on_database(server, count_users_by_role_txn, "hearth_policy_assignments")
    assert sum(after[0].values()) + after[1] >= sum(before[0].values()) + before[1] + 2
    gone = await request(server, "POST", f"/_synapse/admin/v1/deactivate/{quote(user.user_id)}",
                         {}, token=admin.client.api.token)
    assert gone.status == 200, gone
    final = on_database(server, count_users_by_role_txn, "hearth_policy_assignments")
    assert sum(final[0].values()) + final[1] == sum(after[0].values()) + after[1] - 1


async def test_local_media_repository_table_sums_a_users_uploads(
    clients: ClientFactory,
) -> None:
    """Each upload Synapse stored is counted in bytes, for its uploader only."""
    user = await clients.user("compatmedia")
    other = await clients.user("compatmediaother")
    await user.client.upload_media(b"x" * 300, "text/plain")
    await user.client.upload_media(b"y" * 200, "text/plain")
    assert on_database(clients.server, media_bytes_txn, user.user_id) == 500
    assert on_database(clients.server, media_bytes_txn, other.user_id) == 0


async def test_events_table_lists_local_events_in_stream_order(
    clients: ClientFactory,
) -> None:
    """What a user sends comes back after the earlier position, oldest first, with content."""
    server = clients.server
    before = on_database(server, last_stream_ordering_txn)
    user = await clients.user("compatevents")
    room_id = await user.client.create_room()
    await user.client.send_text(room_id, "counted once")
    events = on_database(server, events_sent_after_txn, before, server.server_name, 1000)
    positions = [position for position, _, _, _ in events]
    assert positions == sorted(positions) and all(p > before for p in positions)
    kinds = [(event_type, is_state) for _, event_type, is_state, _ in events]
    assert ("m.room.create", True) in kinds and ("m.room.message", False) in kinds
    bodies = [json.loads(raw)["content"].get("body") for _, t, _, raw in events
              if t == "m.room.message"]
    assert "counted once" in bodies
    assert on_database(server, last_stream_ordering_txn) >= positions[-1]
    assert on_database(server, events_sent_after_txn, before, "elsewhere.example", 1000) == []


async def test_user_ips_table_records_client_activity(clients: ClientFactory) -> None:
    """A user's requests show up as recent activity (Synapse writes it in batches)."""
    server = clients.server
    since = int(time.time() * 1000) - 1000
    user = await clients.user("compatips")
    await user.client.whoami()

    async def recently_active() -> int:
        return on_database(server, active_users_since_txn, since)

    await eventually(recently_active, lambda count: count >= 1, timeout=30,
                     what="recent user_ips rows")


async def test_direct_serve_json_resource_answers_matrix_errors(
    clients: ClientFactory,
) -> None:
    """Our JSON API, on Synapse's class: JSON results, and SynapseErrors as Matrix errors."""
    user = await clients.user("compatjson")
    anonymous = await request(clients.server, "GET", f"{MFA_API}/status")
    assert (anonymous.status, anonymous.errcode) == (401, "M_MISSING_TOKEN"), anonymous
    status = await request(clients.server, "GET", f"{MFA_API}/status",
                           token=user.client.api.token)
    assert status.status == 200 and status.body["totp_enabled"] is False, status


async def test_direct_serve_html_resource_serves_the_enrolment_page(
    clients: ClientFactory,
) -> None:
    """The enrolment page, on Synapse's HTML class, renders a form."""
    page = await request(clients.server, "GET", MFA_PAGE)
    assert page.status == 200, page


async def test_resource_tree_takeover_gate_sees_each_login(clients: ClientFactory) -> None:
    """A failed /login counts against its forwarded address: the gate at /_matrix noted it
    under the SynapseRequest's ID, which the credential check found through the context."""
    server = clients.server
    user = await clients.user("compatgate")
    admin = await clients.user("compatgateadmin", admin=True)
    address = unique_address("198.18.7")
    failed = await password_login(server, user.user_id, WRONG, forwarded_for=address)
    assert failed.status == 403, failed
    unlocked = await request(server, "POST", f"{ADMIN_API}/addresses/{address}/unlock", {},
                             token=admin.client.api.token)
    assert unlocked.status == 200 and unlocked.body["failed_attempts_cleared"] == 1, unlocked


async def test_logging_context_request_links_the_check_to_the_decision(
    clients: ClientFactory,
) -> None:
    """The password check's verdict reaches the login spam check of the same request."""
    server = clients.server
    user = await clients.user("compatctx")
    await enrol(server, user.client.api.token, user.password)
    alone = await password_login(server, user.user_id, user.password,
                                 forwarded_for=unique_address())
    assert (alone.status, alone.body.get(MFA_FIELD)) == (403, "code_required"), alone


async def test_local_media_rows_as_synapse_writes_them(clients: ClientFactory) -> None:
    """An upload's row: type, length, name, uploader and the SHA-256 of the stored bytes;
    quarantine by an admin shows; usage, totals and per-ID sizes count it."""
    import hashlib
    import os

    import httpx

    from hearth.synapse_compat.media_tables import (
        local_media_txn,
        media_sizes_txn,
        media_totals_txn,
        media_usage_by_user_txn,
    )

    server = clients.server
    user = await clients.user("compatmedia")
    data = os.urandom(4321)
    uri = await user.client.upload_media(data, mime_type="application/octet-stream",
                                         filename="blob.bin")
    media_id = str(uri).rsplit("/", 1)[-1]
    row = on_database(server, local_media_txn, media_id)
    assert row is not None
    assert (row.media_type, row.media_length, row.upload_name, row.user_id) == (
        "application/octet-stream", 4321, "blob.bin", user.user_id)
    assert row.sha256 == hashlib.sha256(data).hexdigest() and not row.quarantined
    assert on_database(server, media_usage_by_user_txn, user.user_id) == (1, 4321)
    assert on_database(server, media_sizes_txn, [media_id, "absent"]) == (1, 4321)
    files, total, distinct = on_database(server, media_totals_txn)
    assert files >= 1 and total >= 4321 and 1 <= distinct <= files
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{server.base_url}/_synapse/admin/v1/media/quarantine/{server.server_name}/"
            f"{media_id}", headers={"Authorization": f"Bearer {server.admin['access_token']}"})
        assert response.status_code == 200, response.text
    quarantined = on_database(server, local_media_txn, media_id)
    assert quarantined is not None and quarantined.quarantined
    assert on_database(server, local_media_txn, "absent") is None
