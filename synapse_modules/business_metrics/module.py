"""Registration with Synapse and thin callbacks that feed the business metrics."""

from __future__ import annotations

import logging
import time
from typing import Any

from synapse.events import EventBase
from synapse.module_api import ModuleApi
from synapse.types import StateMap

from hearth.owned_tables import Cursor
from hearth.synapse_modules.business_metrics.classify import message_kind
from hearth.synapse_modules.business_metrics.config import BusinessMetricsConfig
from hearth.synapse_modules.business_metrics.metrics import (
    ACTIVE_USERS,
    MESSAGES,
    REGISTRATIONS,
    ROOMS_CREATED,
)
from hearth.synapse_modules.synapse_compat import check_supported
from hearth.synapse_modules.synapse_compat.tables import active_users_since_txn

logger = logging.getLogger(__name__)

WINDOWS_MS = {"1d": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000}


class BusinessMetricsModule:
    """Counts what the business cares about, once per event across all Synapse processes.

    ``on_new_event`` fires on every process, so only the process that runs background tasks
    counts; the others return at once.
    """

    def __init__(self, config: BusinessMetricsConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self._counting = api.should_run_background_tasks()
        api.register_third_party_rules_callbacks(on_new_event=self.on_new_event)
        api.register_account_validity_callbacks(on_user_registration=self.on_user_registration)
        api.looping_background_call(
            self.refresh_active_users,
            config.active_users_interval_s * 1000,
            desc="hearth_business_metrics_active_users",
        )
        for window in WINDOWS_MS:
            ACTIVE_USERS.labels(config.server_name, window).set(0)
        logger.info("business_metrics loaded counting=%s", self._counting)

    @staticmethod
    def parse_config(config: dict[str, Any]) -> BusinessMetricsConfig:
        """Called by Synapse before ``__init__``; a bad value stops the start."""
        check_supported("business_metrics")
        return BusinessMetricsConfig.parse(config)

    async def on_new_event(self, event: EventBase, state_events: StateMap[EventBase]) -> None:
        """Count local messages by kind, and rooms created by local users."""
        if not self._counting or not self._api.is_mine(event.sender):
            return
        if event.type == "m.room.create" and event.is_state():
            ROOMS_CREATED.labels(self._config.server_name).inc()
            return
        kind = message_kind(event.type, event.content)
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
