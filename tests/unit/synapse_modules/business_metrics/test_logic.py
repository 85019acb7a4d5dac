"""Business metrics: event classification and config parsing, without a server."""

from __future__ import annotations

import pytest

from hearth.configuration.errors import ConfigError
from hearth.synapse_modules.business_metrics.classify import message_kind
from hearth.synapse_modules.business_metrics.config import BusinessMetricsConfig


@pytest.mark.parametrize(
    ("event_type", "content", "kind"),
    [
        ("m.room.message", {"msgtype": "m.text", "body": "hi"}, "m.text"),
        ("m.room.message", {"msgtype": "m.image", "body": "x.png"}, "m.image"),
        ("m.room.message", {"msgtype": "com.example.custom", "body": "?"}, "other"),
        ("m.room.message", {"body": "no msgtype"}, "other"),
        ("m.room.message", {"msgtype": "m.text", "body": "* fix",
                            "m.relates_to": {"rel_type": "m.replace", "event_id": "$e"}}, "edit"),
        ("m.room.encrypted", {"algorithm": "m.megolm.v1.aes-sha2"}, "encrypted"),
        ("m.room.member", {"membership": "join"}, None),
    ],
)
def test_message_kind(event_type: str, content: dict[str, object], kind: str | None) -> None:
    """Messages count by type; edits and encrypted events separately; others not at all."""
    assert message_kind(event_type, content) == kind


def test_config_parses_and_refuses_bad_values() -> None:
    """A valid config parses; a bad one names the key and the value."""
    parsed = BusinessMetricsConfig.parse({"server_name": "example.org"})
    assert parsed.server_name == "example.org" and parsed.active_users_interval_s == 60.0
    with pytest.raises(ConfigError, match=r"'business_metrics\.server_name': missing"):
        BusinessMetricsConfig.parse({})
    with pytest.raises(ConfigError, match=r"active_users_interval_s': got -1"):
        BusinessMetricsConfig.parse({"server_name": "x", "active_users_interval_s": -1})
