"""Do async work on a request first, then let Synapse's own resource handle it.

The media pipeline must read and rewrite an upload before Synapse's upload servlet stores it
(a spam-check callback may refuse a file but not change it). A resource returned by the front
door renders the request like this: :func:`render_after` starts the work in the request's
logging context, and when the work hands back a resource (Synapse's child, with the rewritten
body in place) routing resumes from it and the leaf it reaches renders the request as if it
had been routed there directly —
Synapse's servlets enter ``request.processing()`` themselves, so the work here must not, and
they set ``request.requester`` themselves, so the work's own authentication is forgotten.
A ``SynapseError`` becomes its Matrix error; anything unexpected is logged and answered with
503 ``M_UNKNOWN`` (nothing is passed on unchecked).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from synapse.api.errors import SynapseError
from synapse.http.server import respond_with_json
from synapse.logging.context import PreserveLoggingContext, run_in_background
from twisted.web.resource import Resource, getChildForRequest
from twisted.web.server import NOT_DONE_YET

logger = logging.getLogger(__name__)

Work = Callable[[], Awaitable[Resource | None]]


def respond_json(request: Any, status: int, body: Any) -> None:
    """Send ``body`` as Synapse sends JSON (CORS headers, canonical encoding)."""
    respond_with_json(request, status, body, send_cors=True)


def render_after(request: Any, work: Work, name: str) -> int:
    """Start ``work``; render the request with the resource it returns (None: it answered)."""

    async def run() -> None:
        try:
            handler = await work()
        except SynapseError as e:
            respond_json(request, e.code, e.error_dict(None))
            return
        except Exception:
            logger.exception("%s: could not handle %s %s", name,
                             request.method.decode("ascii", "replace"),
                             request.path.decode("ascii", "replace"))
            if not request.finished and not request.startedWriting:
                respond_json(request, 503, {"errcode": "M_UNKNOWN",
                                            "error": "The request could not be handled; "
                                                     "try again"})
            return
        if handler is not None and not request.finished:
            # Routing stopped at our leaf; walk what is left of the path from the resource
            # handed back (Synapse's /_matrix/media holds v3, r0, v1 children).
            leaf = getChildForRequest(handler, request)  # type: ignore[no-untyped-call]
            # The work authenticated the requester (SynapseRequest.requester may be set once);
            # Synapse's servlet authenticates again, from the same token.
            request._requester = None
            with PreserveLoggingContext(request.logcontext):
                leaf.render(request)

    run_in_background(run)
    return int(NOT_DONE_YET)
