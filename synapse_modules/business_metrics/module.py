"""Registration with Synapse and thin callbacks that feed the business metrics."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from synapse.module_api import ModuleApi

from hearth.owned_tables import Cursor
from hearth.synapse_compat import check_supported
from hearth.synapse_compat.tables import (
    active_users_since_txn,
    events_sent_after_txn,
    last_stream_ordering_txn,
)
from hearth.synapse_modules.business_metrics.classify import message_kind
from hearth.synapse_modules.business_metrics.config import BusinessMetricsConfig
from hearth.synapse_modules.business_metrics.metrics import (
    ACTIVE_USERS,
    MESSAGES,
    REGISTRATIONS,
    ROOMS_CREATED,
)

logger = logging.getLogger(__name__)

EVENTS_PER_BATCH = 500
WINDOWS_MS = {"1d": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000}


class BusinessMetricsModule:
    """Counts what the business cares about, once per event across all Synapse processes.

    Messages and rooms are counted by reading the events Synapse persisted, from the one
    process that runs background tasks, a batch every ``events_interval_s``. Not through
    ``on_new_event``: Synapse 1.163 runs that callback (and its own event and state lookups
    before it) in the sending request's logging context after the request has finished, which
    logs about ten log-context warnings per createRoom, invite or join and corrupts the
    request's accounting, whatever the callback does; and it runs on every process.
    """

    def __init__(self, config: BusinessMetricsConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self._counting = api.should_run_background_tasks()
        self._position: int | None = None  # stream position counted up to; None: not yet read
        api.register_account_validity_callbacks(on_user_registration=self.on_user_registration)
        api.looping_background_call(
            self.refresh_active_users,
            config.active_users_interval_s * 1000,
            desc="hearth_business_metrics_active_users",
        )
        if self._counting:  # note where the stream is now, then count from there
            api.delayed_background_call(0, self.count_new_events,
                                        desc="hearth_business_metrics_position")
        api.looping_background_call(
            self.count_new_events,
            config.events_interval_s * 1000,
            desc="hearth_business_metrics_events",
        )
        for window in WINDOWS_MS:
            ACTIVE_USERS.labels(config.server_name, window).set(0)
        logger.info("business_metrics loaded counting=%s", self._counting)

    @staticmethod
    def parse_config(config: dict[str, Any]) -> BusinessMetricsConfig:
        """Called by Synapse before ``__init__``; a bad value stops the start."""
        check_supported("business_metrics")
        return BusinessMetricsConfig.parse(config)

    async def count_new_events(self) -> None:
        """Count the local messages (by kind) and rooms created since the last batch.

        The first call, at start, only notes where the stream is: what was sent before this
        process started was counted by its predecessor (counters restart from zero,
        which Prometheus' ``rate`` and ``increase`` expect)."""
        if self._position is None:
            self._position = await self._api.run_db_interaction(
                "hearth_business_metrics_position", last_stream_ordering_txn)
            return
        while True:
            batch = await self._api.run_db_interaction(
                "hearth_business_metrics_events", events_sent_after_txn, self._position,
                self._config.server_name, EVENTS_PER_BATCH)
            for position, event_type, is_state, event_json in batch:
                self._count(event_type, is_state, event_json)
                self._position = position
            if len(batch) < EVENTS_PER_BATCH:
                return

    def _count(self, event_type: str, is_state: bool, event_json: str) -> None:
        if event_type == "m.room.create" and is_state:
            ROOMS_CREATED.labels(self._config.server_name).inc()
            return
        try:
            content = json.loads(event_json).get("content")
        except ValueError:
            return
        kind = message_kind(event_type, content if isinstance(content, dict) else {})
        if kind is not None:
            MESSAGES.labels(self._config.server_name, kind).inc()

    async def on_user_registration(self, user_id: str) -> None:
        """Count accounts as they are created (runs where the registration happens)."""
        REGISTRATIONS.labels(self._config.server_name).inc()

    async def refresh_active_users(self) -> None:
        """Set the active-user gauges from Synapse's own record of client activity."""
        now_ms = int(time.time() * 1000)
        counts = await self._api.run_db_interaction(
            "hearth_business_metrics_active_users", _count_active_users_txn, now_ms
        )
        for window, count in counts.items():
            ACTIVE_USERS.labels(self._config.server_name, window).set(count)


def _count_active_users_txn(txn: Cursor, now_ms: int) -> dict[str, int]:
    return {window: active_users_since_txn(txn, now_ms - span)
            for window, span in WINDOWS_MS.items()}
