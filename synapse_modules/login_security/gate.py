"""The client-address gate: sees each client request before Synapse handles it.

Synapse's password auth providers and login spam check are not given the raw request, and
Synapse's own client address trusts ``X-Forwarded-For`` from any peer when the listener has
``x_forwarded: true``. The gate is an interceptor of the front door
(``hearth.synapse_compat.front_door``), the one resource at ``/_matrix`` that takes over the
children Synapse put there (``/_matrix/client``, ``/_matrix/media``, ...). Routing then passes
through ``intercept`` here, which — for client requests that can carry a password (``POST`` to
every path Synapse routes to its login servlet, and the other writing methods, where user-
interactive auth happens) — notes the TCP peer, the address resolved from the trusted proxies
and, at ``/login``, the body's login type, and returns Synapse's own child unchanged. It
answers a request itself only to refuse a malformed body (``request_screen``: ``POST``/``PUT``
under ``/_matrix/client/``) with a Matrix error; if noting fails, the request has no note, and
a login without a note is refused (fail closed), and if screening fails the request is refused.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from hearth.synapse_compat.routes import login_path
from hearth.synapse_compat.web import Resource, UnrecognizedRequestResource
from hearth.synapse_modules.login_security.addresses import IPNetwork, resolve_client_address
from hearth.synapse_modules.login_security.request_notes import RequestNote, RequestNotes, Route
from hearth.synapse_modules.login_security.request_screen import (
    REQUESTS_REFUSED,
    Refusal,
    screen,
    screened,
)

logger = logging.getLogger(__name__)

# Methods of the endpoints that may ask for user-interactive auth (none of them is a GET).
WRITING_METHODS = frozenset({b"POST", b"PUT", b"DELETE"})


def peer_host(request: Any) -> str | None:
    """The TCP peer's IP address (Twisted keeps it in ``request.client``), or None."""
    host = getattr(getattr(request, "client", None), "host", None)
    return host if isinstance(host, str) else None


def client_address(request: Any, trusted_proxies: Sequence[IPNetwork]) -> str | None:
    """The client address of ``request``, believing X-Forwarded-For only from trusted peers."""
    raw = request.requestHeaders.getRawHeaders(b"x-forwarded-for") or []
    values = [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in raw]
    return resolve_client_address(peer_host(request), values, trusted_proxies)


def login_type(request: Any) -> str | None:
    """The ``type`` of a login body, read as Synapse will read it (None if it cannot be).

    Twisted has the whole body in ``request.content`` before routing; it is read from the
    start and the position put back, so Synapse then reads the same bytes.
    """
    content = getattr(request, "content", None)
    if content is None:
        return None
    position = content.tell()
    try:
        content.seek(0)
        body = json.loads(content.read())
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None
    finally:
        content.seek(position)
    kind = body.get("type") if isinstance(body, dict) else None
    return kind if isinstance(kind, str) else None


def request_body(request: Any) -> bytes:
    """The whole body, read from the start with the position put back for Synapse."""
    content = getattr(request, "content", None)
    if content is None:
        return b""
    position = content.tell()
    try:
        content.seek(0)
        data = content.read()
    finally:
        content.seek(position)
    return data if isinstance(data, bytes) else b""


def screen_request(request: Any) -> Refusal | None:
    """The screen's verdict on ``request`` (a refusal too when it cannot be decided)."""
    method = request.method or b""
    path = request.path or b""
    if not screened(method, path):
        return None
    try:
        content_type = (request.requestHeaders.getRawHeaders(b"content-type") or [None])[0]
        return screen(method, path, content_type, request_body(request))
    except Exception:
        logger.exception("login_security: could not screen the request; refusing it")
        return Refusal(400, "M_BAD_JSON", "The request body could not be checked",
                       "check_failed")


class RefusalResource(Resource):
    """Answers one refused request with its Matrix error (a leaf: nothing routes past it)."""

    isLeaf = True

    def __init__(self, refusal: Refusal) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._refusal = refusal

    def render(self, request: Any) -> bytes:
        body = self._refusal.body()
        request.setResponseCode(self._refusal.status)
        request.setHeader(b"Content-Type", b"application/json")
        request.setHeader(b"Content-Length", str(len(body)).encode())
        return body


class ClientAddressGate(UnrecognizedRequestResource):
    """Stands in for Synapse's ``/_matrix`` placeholder; notes guarded requests."""

    def __init__(self, notes: RequestNotes, trusted_proxies: Sequence[IPNetwork],
                 server_name: str = "") -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._server_name = server_name
        self._notes = notes
        self._trusted = tuple(trusted_proxies)
        self._warned = False

    def getChildWithDefault(self, path: bytes, request: Any) -> Resource:
        child: Resource = super().getChildWithDefault(path, request)  # type: ignore[no-untyped-call]
        return self.intercept(path, request, child)

    def intercept(self, path: bytes, request: Any, chosen: Resource) -> Resource:
        """The front door's interceptor: note, screen, then ``chosen`` or a refusal."""
        if path == b"client" and request.method in WRITING_METHODS:
            try:
                self._note(request)
            except Exception:
                logger.exception("login_security: could not note the request; a login "
                                 "through it will be refused")
        if path == b"client":
            refusal = screen_request(request)
            if refusal is not None:
                REQUESTS_REFUSED.labels(self._server_name, refusal.reason).inc()
                return RefusalResource(refusal)
        return chosen

    def _note(self, request: Any) -> None:
        if getattr(request, "request_id_header", None):
            # Request IDs then come from a header a client may set: they cannot key notes.
            if not self._warned:
                logger.error("login_security: the listener sets request_id_header, so "
                             "requests cannot be tracked; password logins will be refused")
                self._warned = True
            return
        is_login = request.method == b"POST" and login_path(request.path or b"")
        note = RequestNote(Route.LOGIN if is_login else Route.OTHER,
                           client_address(request, self._trusted), peer_host(request),
                           login_type(request) if is_login else None)
        request_id = request.get_request_id()
        if not self._notes.add(request_id, note):
            logger.warning("login_security: too many requests in flight to note another")
            return
        request.notifyFinish().addBoth(self._forget, request_id)

    def _forget(self, result: object, request_id: str) -> object:
        self._notes.discard(request_id)
        return None
