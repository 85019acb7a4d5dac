"""Prometheus metrics of streaming (served with the rest of the bot's metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from hearth.ai_bot.streaming.scheduler import SendKind

TIME_TO_FIRST_EVENT = Histogram(
    "hearth_ai_time_to_first_event_seconds",
    "From the prompt being picked up to the answer's first event accepted by the homeserver",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0),
)
EVENTS_SENT = Counter(
    "hearth_ai_answer_events_total",
    "Events of streamed answers by kind (first message, live edit, final edit)",
    ["kind"],
)
UPDATES_COALESCED = Counter(
    "hearth_ai_edits_coalesced_total",
    "Text updates folded into a later edit instead of getting an edit of their own",
)
HOMESERVER_RATE_LIMITED = Counter(
    "hearth_ai_homeserver_rate_limited_total",
    "429 M_LIMIT_EXCEEDED answers from the homeserver to the bot's sends",
)


class PrometheusObserver:
    """The scheduler's ``Observer``, feeding the metrics above."""

    def first_visible(self, seconds: float) -> None:
        TIME_TO_FIRST_EVENT.observe(seconds)

    def sent(self, kind: SendKind) -> None:
        EVENTS_SENT.labels(kind=kind).inc()

    def coalesced(self, updates: int) -> None:
        UPDATES_COALESCED.inc(updates)

    def rate_limited(self) -> None:
        HOMESERVER_RATE_LIMITED.inc()
