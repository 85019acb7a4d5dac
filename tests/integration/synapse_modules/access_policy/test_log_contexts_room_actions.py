"""Our modules keep Synapse's logging contexts intact: no log-context warnings.

With every module on, as deployed. Any module registering Synapse's ``on_new_event`` callback
made Synapse 1.163 run it (``EventCreationHandler``'s ``run_in_background(_notify)``) in the
request's logging context after the request finished, about ten warnings per createRoom,
whatever the callback did; business_metrics now counts from the persisted events instead.
"""

from __future__ import annotations

import secrets

import httpx
from mautrix.types import RoomCreatePreset, UserID

from tests.harness.calls import eventually
from tests.harness.clients import ClientFactory
from tests.harness.roles import set_role
from tests.harness.server_pool import ServerPool

# What Synapse logs when a callback resumes a request's logging context after it finished,
# or runs work outside it: request accounting (CPU, database time) and tracing go wrong.
WARNINGS = ("Re-starting finished log context", "without recording a start rusage",
            "Expected logging context", "Called stop on logcontext")


async def test_room_actions_log_no_log_context_warnings(server_pool: ServerPool,
                                                         engine: str) -> None:
    """createRoom, invite and join (with a rate-limited role) leave no log-context warning."""
    server = server_pool.get(engine, ())
    clients = ClientFactory(server)
    try:
        await _room_actions_then_check_log(clients)
    finally:
        await clients.close()


async def _room_actions_then_check_log(clients: ClientFactory) -> None:
    server = clients.server
    log = server.data_dir / "logs" / "homeserver.log"
    start = log.stat().st_size
    alice = await clients.user("logalice")
    bob = await clients.user("logbob")
    await set_role(server, alice.user_id, "limited")  # every limiter of ours is consulted
    await set_role(server, bob.user_id, "limited")
    room_id = await alice.client.create_room(preset=RoomCreatePreset.PRIVATE,
                                             name="log contexts", topic="quiet")
    await alice.client.invite_user(room_id, UserID(bob.user_id))
    await bob.client.join_room_by_id(room_id)
    await alice.client.send_text(room_id, "hello")
    public = await alice.client.create_room(preset=RoomCreatePreset.PUBLIC)
    await bob.client.join_room_by_id(public)
    # A marker request after everything: once its access line is in the log, so is whatever
    # the requests above logged.
    marker = f"/_matrix/client/versions?marker={secrets.token_hex(8)}"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as http:
        assert (await http.get(marker)).status_code == 200

    def written() -> str:
        with log.open("rb") as handle:
            handle.seek(start)
            return handle.read().decode("utf-8", errors="replace")

    async def probe() -> str:
        return written()

    text = await eventually(probe, lambda text: marker in text, what="the marker in the log")
    found = [line for line in text.splitlines() if any(w in line for w in WARNINGS)]
    assert found == [], "\n".join(found[:20])
