"""Synapse's logging context: the request being handled, and waiting on Twisted deferreds."""

from __future__ import annotations

from synapse.logging.context import current_context, make_deferred_yieldable

__all__ = ["current_request_record", "current_requester", "make_deferred_yieldable"]


def current_request_record() -> object | None:
    """Synapse's record of the HTTP request being handled (one object per request), or None.

    It is the ``ContextRequest`` Synapse attaches to the request's logging context; its
    ``request_id`` is ``SynapseRequest.get_request_id()`` of the same request.
    """
    record: object | None = getattr(current_context(), "request", None)
    return record


def current_requester(record: object | None) -> str | None:
    """The user ID the request's access token belongs to, once Synapse has checked it.

    ``SynapseRequest.requester`` (set by ``Auth.get_user_by_req``) copies the requester's
    user ID into the record's ``requester``; before that, and for requests without an access
    token, it is None.
    """
    requester = getattr(record, "requester", None)
    return requester if isinstance(requester, str) else None
