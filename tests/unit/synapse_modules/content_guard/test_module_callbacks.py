"""Content guard callback: scope (local messages only), refusals, rewrites, failing closed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from synapse.api.errors import Codes, SynapseError

from hearth.synapse_modules.content_guard.config import ContentGuardConfig
from hearth.synapse_modules.content_guard.module import GENERIC_FAILURE, ContentGuardModule


class FakeApi:
    """The few ModuleApi methods the module uses."""

    def __init__(self, fail_with: BaseException | None = None) -> None:
        self.callbacks: dict[str, Any] = {}
        self.fail_with = fail_with

    def register_third_party_rules_callbacks(self, **callbacks: Any) -> None:
        self.callbacks.update(callbacks)

    def is_mine(self, user_id: str) -> bool:
        return user_id.endswith(":localhost")

    async def defer_to_thread(self, f: Callable[..., Any], *args: Any) -> Any:
        if self.fail_with is not None:
            raise self.fail_with
        return f(*args)


class FakeEvent:
    def __init__(self, content: dict[str, Any], sender: str = "@alice:localhost",
                 event_type: str = "m.room.message") -> None:
        self.type = event_type
        self.sender = sender
        self.content = content
        self.event_id = "$event"

    def get_dict(self) -> dict[str, Any]:
        return {"type": self.type, "sender": self.sender, "room_id": "!r:localhost",
                "content": dict(self.content), "unsigned": {}}


def _module(api: FakeApi) -> ContentGuardModule:
    config = ContentGuardModule.parse_config({"server_name": "localhost"})
    assert isinstance(config, ContentGuardConfig)
    return ContentGuardModule(config, api)  # type: ignore[arg-type]


async def _check(api: FakeApi, event: FakeEvent) -> tuple[bool, dict[str, Any] | None]:
    module = _module(api)
    assert api.callbacks["check_event_allowed"] == module.check_event_allowed
    return await module.check_event_allowed(event, {})  # type: ignore[arg-type]


XSS = {"msgtype": "m.text", "body": "b", "formatted_body": "<b onclick=x>b</b>"}


async def test_local_unsafe_message_replaced() -> None:
    """A local message with unsafe HTML is allowed with a replacement event dict."""
    allowed, replacement = await _check(FakeApi(), FakeEvent(XSS))
    assert allowed is True and replacement is not None
    assert replacement["content"] == {**XSS, "formatted_body": "<b>b</b>"}
    assert replacement["room_id"] == "!r:localhost" and replacement["type"] == "m.room.message"


async def test_clean_and_out_of_scope_events_untouched() -> None:
    """Clean messages, other event types and remote senders get no replacement."""
    assert await _check(FakeApi(), FakeEvent({"msgtype": "m.text", "body": "hi"})) == (True, None)
    assert await _check(FakeApi(), FakeEvent(XSS, event_type="m.room.topic")) == (True, None)
    assert await _check(FakeApi(), FakeEvent(XSS, sender="@mallory:remote.example")) == (True, None)


async def test_malformed_refused_with_bad_json() -> None:
    """A problem becomes SynapseError 400 M_BAD_JSON carrying the problem's message."""
    with pytest.raises(SynapseError) as raised:
        await _check(FakeApi(), FakeEvent({"msgtype": "m.text", "body": "x", "formatted_body": 1}))
    assert (raised.value.code, raised.value.errcode) == (400, Codes.BAD_JSON)
    assert raised.value.msg == "'formatted_body' must be a string, not a number"


async def test_unexpected_failure_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    """A bug refuses the message with a generic 500 and is logged, never lets it through."""
    with caplog.at_level(logging.ERROR), pytest.raises(SynapseError) as raised:
        await _check(FakeApi(fail_with=RuntimeError("boom")), FakeEvent(XSS))
    assert (raised.value.code, raised.value.errcode) == (500, Codes.UNKNOWN)
    assert raised.value.msg == GENERIC_FAILURE
    assert "content_guard failed" in caplog.text


async def test_deliberate_synapse_error_passes_through() -> None:
    """A SynapseError raised underneath reaches Synapse unchanged."""
    deliberate = SynapseError(429, "slow down", Codes.LIMIT_EXCEEDED)
    with pytest.raises(SynapseError) as raised:
        await _check(FakeApi(fail_with=deliberate), FakeEvent(XSS))
    assert raised.value is deliberate
