"""Registration with Synapse and the one thin callback that guards message content.

Hook: third-party rules ``check_event_allowed``. Synapse calls it from
``EventCreationHandler.create_event`` for every event a local user (or the server) creates,
messages and state events alike (``PUT /state``, and ``createRoom``'s ``initial_state``,
preset and ``topic`` events), before the event is validated, stored or sent anywhere; remote
events reach it only for knocks. Every event type is checked: HTML is recognised by its
shape wherever it sits (:mod:`html_fields`). Its results (``synapse/handlers/message.py``):

- returning ``(True, event_dict)`` makes Synapse rebuild the event from that dict
  (``_rebuild_event_after_third_party_rules``: same room, type, state key and sender; new
  content), so the sanitised HTML is what is stored and what everyone sees;
- a ``SynapseError`` raised here propagates unchanged to the client
  (``third_party_event_rules_callbacks.check_event_allowed`` re-raises it), which is how
  malformed content is refused with exactly 400 ``M_BAD_JSON`` and a message naming the field;
- any other exception would become a bare 500; we log it and refuse with a generic message.

A top-level ``body``/``msgtype`` that is missing or not a string is refused earlier by
Synapse's ``EventValidator.validate_builder`` (400 ``M_UNKNOWN``); no module can change that.

``createRoom`` requests are sanitised earlier, in ``on_create_room`` (:mod:`room_creation`
says why: a replacement inside the room's first batch of events would fork its history).

Synapse stops at the first callback that returns a replacement, so this module must be the
last one registering ``check_event_allowed`` (``hearth/render.py`` lists it last), or the
checks of modules after it would be skipped for rewritten messages.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

from synapse.api.errors import Codes, SynapseError
from synapse.events import EventBase
from synapse.module_api import ModuleApi, Requester
from synapse.types import JsonDict, StateMap
from twisted.internet.defer import CancelledError

from hearth.synapse_compat import check_supported
from hearth.synapse_modules.content_guard.config import ContentGuardConfig
from hearth.synapse_modules.content_guard.html_fields import find_html_fields
from hearth.synapse_modules.content_guard.message_verdict import Rewrite, Verdict, check_content
from hearth.synapse_modules.content_guard.metrics import (
    REFUSED,
    SANITISED,
    SANITISED_FIELDS,
    event_type_label,
)
from hearth.synapse_modules.content_guard.room_creation import check_room_config
from hearth.synapse_modules.content_guard.validate import Problem

logger = logging.getLogger(__name__)

GENERIC_FAILURE = "This content could not be checked, so it was not accepted; please try again"


class ContentGuardModule:
    """Refuses malformed messages and sanitises the HTML of every event, for local senders."""

    def __init__(self, config: ContentGuardConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        api.register_third_party_rules_callbacks(check_event_allowed=self.check_event_allowed,
                                                 on_create_room=self.on_create_room)
        logger.info("content_guard loaded limits=%s", config.limits)

    @staticmethod
    def parse_config(config: dict[str, Any]) -> ContentGuardConfig:
        """Called by Synapse before ``__init__``; a bad value stops the start."""
        check_supported("content_guard")
        return ContentGuardConfig.parse(config)

    async def check_event_allowed(
        self, event: EventBase, state_events: StateMap[EventBase]
    ) -> tuple[bool, dict[str, Any] | None]:
        """Synapse's callback: deliberate refusals pass through, anything else fails closed."""
        try:
            return await self._check(event)
        except (SynapseError, CancelledError):
            raise
        except Exception:
            logger.exception("content_guard failed on event %s; refusing it", event.event_id)
            REFUSED.labels(self._config.server_name, "internal_error").inc()
            raise SynapseError(500, GENERIC_FAILURE, Codes.UNKNOWN) from None

    async def on_create_room(self, requester: Requester, config: JsonDict,
                             is_requester_admin: bool) -> None:
        """Synapse's callback: sanitise the request's HTML in place before the room is built.

        See :mod:`room_creation` for why this cannot wait for ``check_event_allowed``.
        """
        try:
            verdict = await self._api.defer_to_thread(check_room_config, config,
                                                      self._config.limits)
        except (SynapseError, CancelledError):
            raise
        except Exception:
            logger.exception("content_guard failed on a createRoom by %s; refusing it",
                             requester.user.to_string())
            REFUSED.labels(self._config.server_name, "internal_error").inc()
            raise SynapseError(500, GENERIC_FAILURE, Codes.UNKNOWN) from None
        if isinstance(verdict, Problem):
            self._refuse(verdict, f"createRoom by {requester.user.to_string()}")
        if verdict is not None:
            for event_type, rewrite in verdict.rewrites:
                self._count_rewrite(event_type, rewrite)
            logger.info("content_guard sanitised %s in a createRoom by %s",
                        ",".join(verdict.updates), requester.user.to_string())
            config.update(verdict.updates)

    def _refuse(self, problem: Problem, what: str) -> NoReturn:
        REFUSED.labels(self._config.server_name, problem.reason).inc()
        logger.info("content_guard refused %s: %s", what, problem.message)
        raise SynapseError(400, problem.message, Codes.BAD_JSON)

    def _count_rewrite(self, event_type: str, rewrite: Rewrite) -> None:
        SANITISED.labels(self._config.server_name).inc()
        type_label = event_type_label(event_type)
        for field in rewrite.changed:
            SANITISED_FIELDS.labels(self._config.server_name, type_label, field.kind).inc()

    async def _check(self, event: EventBase) -> tuple[bool, dict[str, Any] | None]:
        if not self._api.is_mine(event.sender):
            return True, None
        content = event.content
        verdict: Verdict
        if find_html_fields(content):
            # nh3 releases the GIL: HTML is parsed off the reactor thread.
            verdict = await self._api.defer_to_thread(check_content, event.type, content,
                                                      self._config.limits)
        else:
            verdict = check_content(event.type, content, self._config.limits)
        if isinstance(verdict, Problem):
            self._refuse(verdict, f"{event.event_id} from {event.sender}")
        if isinstance(verdict, Rewrite):
            self._count_rewrite(event.type, verdict)
            logger.info("content_guard sanitised %s of %s %s from %s", ",".join(verdict.fields),
                        event.type, event.event_id, event.sender)
            replacement = event.get_dict()
            replacement["content"] = verdict.content
            return True, replacement
        return True, None
