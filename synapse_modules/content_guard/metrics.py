"""Prometheus series of the content guard, on Synapse's global registry."""

from __future__ import annotations

from prometheus_client import Counter

SANITISED = Counter(
    "hearth_content_sanitised_total",
    "Local events (of any type) whose HTML was rewritten by the sanitiser",
    ["server_name"],
)
SANITISED_FIELDS = Counter(
    "hearth_content_sanitised_fields_total",
    "HTML fields rewritten by the sanitiser, by event type (the types below, else 'other') and"
    " field kind (formatted_body, html_representation, html_string)",
    ["server_name", "event_type", "field"],
)
REFUSED = Counter(
    "hearth_content_refused_total",
    "Local events refused, by reason (missing_field, wrong_type, too_large, too_deep,"
    " internal_error)",
    ["server_name", "reason"],
)

# Event types get their own label value; any other (clients invent types freely) is 'other',
# so the series stay a small fixed set.
LABELLED_EVENT_TYPES: frozenset[str] = frozenset({
    "m.room.message", "m.room.topic", "m.sticker", "m.message", "m.emote", "m.notice",
    "m.poll.start", "m.poll.end", "org.matrix.msc3381.poll.start",
    "org.matrix.msc3381.poll.end",
})


def event_type_label(event_type: str) -> str:
    """The ``event_type`` label value for an event type."""
    return event_type if event_type in LABELLED_EVENT_TYPES else "other"
