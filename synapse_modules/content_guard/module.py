"""Registration with Synapse and the one thin callback that guards message content.

Hook: third-party rules ``check_event_allowed``. Synapse calls it from
``EventCreationHandler.create_event`` for every event a local user (or the server) creates,
before the event is validated, stored or sent anywhere; remote events reach it only for
knocks, which are not messages. Its results (``synapse/handlers/message.py``):

- returning ``(True, event_dict)`` makes Synapse rebuild the event from that dict
  (``_rebuild_event_after_third_party_rules``: same room, type, state key and sender; new
  content), so the sanitised ``formatted_body`` is what is stored and what everyone sees;
- a ``SynapseError`` raised here propagates unchanged to the client
  (``third_party_event_rules_callbacks.check_event_allowed`` re-raises it), which is how
  malformed content is refused with exactly 400 ``M_BAD_JSON`` and a message naming the field;
- any other exception would become a bare 500; we log it and refuse with a generic message.

A top-level ``body``/``msgtype`` that is missing or not a string is refused earlier by
Synapse's ``EventValidator.validate_builder`` (400 ``M_UNKNOWN``); no module can change that.

Synapse stops at the first callback that returns a replacement, so this module must be the
last one registering ``check_event_allowed`` (``hearth/render.py`` lists it last), or the
checks of modules after it would be skipped for rewritten messages.
"""

from __future__ import annotations

import logging
from typing import Any

from synapse.api.errors import Codes, SynapseError
from synapse.events import EventBase
from synapse.module_api import ModuleApi
from synapse.types import StateMap
from twisted.internet.defer import CancelledError

from hearth.synapse_modules.content_guard.config import ContentGuardConfig
from hearth.synapse_modules.content_guard.message_verdict import (
    Rewrite,
    Verdict,
    check_message,
    plain_json,
)
from hearth.synapse_modules.content_guard.metrics import REFUSED, SANITISED
from hearth.synapse_modules.content_guard.validate import Problem
from hearth.synapse_modules.synapse_compat import check_supported

logger = logging.getLogger(__name__)

GENERIC_FAILURE = "This message could not be checked, so it was not sent; please try again"


class ContentGuardModule:
    """Refuses malformed ``m.room.message`` content and sanitises its HTML, for local senders."""

    def __init__(self, config: ContentGuardConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        api.register_third_party_rules_callbacks(check_event_allowed=self.check_event_allowed)
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

    async def _check(self, event: EventBase) -> tuple[bool, dict[str, Any] | None]:
        if event.type != "m.room.message" or not self._api.is_mine(event.sender):
            return True, None
        content = plain_json(event.content)
        verdict: Verdict
        if "formatted_body" in content or "m.new_content" in content:
            # nh3 releases the GIL: large HTML is parsed off the reactor thread.
            verdict = await self._api.defer_to_thread(check_message, content,
                                                      self._config.limits)
        else:
            verdict = check_message(content, self._config.limits)
        if isinstance(verdict, Problem):
            REFUSED.labels(self._config.server_name, verdict.reason).inc()
            logger.info("content_guard refused %s from %s: %s", event.event_id, event.sender,
                        verdict.message)
            raise SynapseError(400, verdict.message, Codes.BAD_JSON)
        if isinstance(verdict, Rewrite):
            SANITISED.labels(self._config.server_name).inc()
            logger.info("content_guard sanitised %s of %s from %s", ",".join(verdict.fields),
                        event.event_id, event.sender)
            replacement = event.get_dict()
            replacement["content"] = verdict.content
            return True, replacement
        return True, None
