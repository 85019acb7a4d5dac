"""Waiting on /sync for what another user should see."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mautrix.client import ClientAPI


class SyncWatcher:
    """Follows one client's /sync stream and finds the first item matching a predicate."""

    def __init__(self, client: ClientAPI) -> None:
        self.client = client
        self.since: str | None = None

    async def prime(self) -> None:
        """Skip everything that happened before now."""
        response = await self.client.sync(timeout=0, since=self.since)
        self.since = response["next_batch"]

    async def wait_for(
        self, find: Callable[[dict[str, Any]], Any], timeout: float = 20.0
    ) -> Any:
        """Sync until ``find(response)`` returns something truthy, and return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = await self.client.sync(timeout=2000, since=self.since)
            self.since = response["next_batch"]
            found = find(response)
            if found:
                return found
        raise TimeoutError(f"/sync did not show the expected item within {timeout}s")


def room_timeline(response: dict[str, Any], room_id: str) -> list[dict[str, Any]]:
    """Timeline events of a joined room in a sync response."""
    room = response.get("rooms", {}).get("join", {}).get(room_id, {})
    events: list[dict[str, Any]] = room.get("timeline", {}).get("events", [])
    return events


def room_ephemeral(response: dict[str, Any], room_id: str) -> list[dict[str, Any]]:
    """Ephemeral events (typing, receipts) of a joined room in a sync response."""
    room = response.get("rooms", {}).get("join", {}).get(room_id, {})
    events: list[dict[str, Any]] = room.get("ephemeral", {}).get("events", [])
    return events
