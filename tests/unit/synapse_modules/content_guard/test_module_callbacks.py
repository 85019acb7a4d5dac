"""Content guard callback: scope (local messages only), refusals, rewrites, failing closed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY
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
    """Clean events of any type and remote senders get no replacement."""
    assert await _check(FakeApi(), FakeEvent({"msgtype": "m.text", "body": "hi"})) == (True, None)
    clean_topic = {"topic": "t", "m.topic": {"m.text": [{"mimetype": "text/html",
                                                         "body": "<b>t</b>"}]}}
    assert await _check(FakeApi(), FakeEvent(clean_topic, event_type="m.room.topic")) == (
        True, None)
    assert await _check(FakeApi(), FakeEvent({"membership": "join"},
                                             event_type="m.room.member")) == (True, None)
    assert await _check(FakeApi(), FakeEvent(XSS, sender="@mallory:remote.example")) == (True, None)


def _sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, {"server_name": "localhost", **labels})
    return value or 0.0


async def test_local_state_event_html_replaced_and_counted() -> None:
    """A topic's HTML is sanitised like a message's, and counted by event type and field."""
    topic = {"topic": "plain", "m.topic": {"m.text": [
        {"mimetype": "text/plain", "body": "plain"},
        {"mimetype": "text/html", "body": '<a href="javascript:alert(1)">t</a>'}]}}
    fields = "hearth_content_sanitised_fields_total"
    before = _sample(fields, event_type="m.room.topic", field="html_representation")
    events_before = _sample("hearth_content_sanitised_total")
    allowed, replacement = await _check(FakeApi(), FakeEvent(topic, event_type="m.room.topic"))
    assert allowed is True and replacement is not None
    assert replacement["content"]["m.topic"]["m.text"][1]["body"] == "<a>t</a>"
    assert replacement["content"]["topic"] == "plain"
    assert _sample(fields, event_type="m.room.topic", field="html_representation") == before + 1
    assert _sample("hearth_content_sanitised_total") == events_before + 1


async def test_unknown_event_type_counted_as_other() -> None:
    """Metric labels stay a small fixed set whatever event type a client invents."""
    fields = "hearth_content_sanitised_fields_total"
    before = _sample(fields, event_type="other", field="formatted_body")
    content = {"formatted_body": "<script>x</script>y"}
    _, replacement = await _check(FakeApi(), FakeEvent(content, event_type="com.example.x1"))
    assert replacement is not None and replacement["content"] == {"formatted_body": "y"}
    assert _sample(fields, event_type="other", field="formatted_body") == before + 1


async def test_wrong_type_html_in_state_event_refused() -> None:
    """A non-string HTML field in any event type is refused with 400 M_BAD_JSON."""
    with pytest.raises(SynapseError) as raised:
        await _check(FakeApi(), FakeEvent({"topic": "t", "m.topic": [
            {"mimetype": "text/html", "body": 1}]}, event_type="m.room.topic"))
    assert (raised.value.code, raised.value.errcode) == (400, Codes.BAD_JSON)
    assert raised.value.msg == "'m.topic[0].body' must be a string, not a number"


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


class FakeUser:
    def to_string(self) -> str:
        return "@alice:localhost"


class FakeRequester:
    """The part of Synapse's Requester the module reads."""

    user = FakeUser()


async def test_create_room_request_sanitised_in_place() -> None:
    """on_create_room rewrites the request's HTML in place, so the room's events are clean."""
    api = FakeApi()
    module = _module(api)
    assert api.callbacks["on_create_room"] == module.on_create_room
    config: dict[str, Any] = {"preset": "private_chat", "initial_state": [
        {"type": "m.room.topic", "state_key": "",
         "content": {"topic": "t", "m.topic": [{"mimetype": "text/html",
                                                "body": "<b onclick=x>t</b>"}]}}]}
    before = _sample("hearth_content_sanitised_fields_total", event_type="m.room.topic",
                     field="html_representation")
    await module.on_create_room(FakeRequester(), config, False)  # type: ignore[arg-type]
    assert config["initial_state"][0]["content"]["m.topic"][0]["body"] == "<b>t</b>"
    assert config["preset"] == "private_chat"
    assert _sample("hearth_content_sanitised_fields_total", event_type="m.room.topic",
                   field="html_representation") == before + 1


async def test_create_room_request_refused_or_failing_closed() -> None:
    """Unusable HTML refuses the createRoom with 400; a bug refuses it with a generic 500."""
    config: dict[str, Any] = {"creation_content": {"formatted_body": 7}}
    with pytest.raises(SynapseError) as raised:
        await _module(FakeApi()).on_create_room(FakeRequester(), config,  # type: ignore[arg-type]
                                                False)
    assert (raised.value.code, raised.value.errcode) == (400, Codes.BAD_JSON)
    assert raised.value.msg == ("In creation_content: 'formatted_body' must be a string, "
                                "not a number")
    with pytest.raises(SynapseError) as raised:
        await _module(FakeApi(fail_with=RuntimeError("boom"))).on_create_room(
            FakeRequester(), {}, False)  # type: ignore[arg-type]
    assert (raised.value.code, raised.value.msg) == (500, GENERIC_FAILURE)
