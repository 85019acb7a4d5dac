"""Synapse's logging context: the request being handled, and waiting on Twisted deferreds."""

from __future__ import annotations

from synapse.logging.context import current_context, make_deferred_yieldable

__all__ = ["current_request_record", "make_deferred_yieldable"]


def current_request_record() -> object | None:
    """Synapse's record of the HTTP request being handled (one object per request), or None.

    It is the ``ContextRequest`` Synapse attaches to the request's logging context; its
    ``request_id`` is ``SynapseRequest.get_request_id()`` of the same request.
    """
    record: object | None = getattr(current_context(), "request", None)
    return record
