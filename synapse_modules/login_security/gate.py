"""The client-address gate: sees each ``POST /login`` before Synapse handles it.

Synapse's password auth providers and login spam check are not given the raw request, and
Synapse's own client address trusts ``X-Forwarded-For`` from any peer when the listener
has ``x_forwarded: true``. The gate is a resource registered at ``/_matrix`` through the
module API: Synapse builds its resource tree so that a resource registered at a parent
path takes over the children already there (``/_matrix/client``, ``/_matrix/media``, ...).
Routing then passes through ``getChildWithDefault`` here, which — for ``POST
/_matrix/client/*/login`` only — notes the TCP peer and the address resolved from the
trusted proxies, and returns Synapse's own child unchanged. It never answers a request
itself, so if it fails it only loses the note (and address rules then fail closed).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from hearth.synapse_modules.login_security.addresses import IPNetwork, resolve_client_address
from hearth.synapse_modules.login_security.request_notes import LoginRequest, Registry
from hearth.synapse_modules.synapse_compat.web import Resource, UnrecognizedRequestResource

logger = logging.getLogger(__name__)

LOGIN_PATH = re.compile(rb"^/_matrix/client/[^/]+/login/?$")


def peer_host(request: Any) -> str | None:
    """The TCP peer's IP address (Twisted keeps it in ``request.client``), or None."""
    host = getattr(getattr(request, "client", None), "host", None)
    return host if isinstance(host, str) else None


def client_address(request: Any, trusted_proxies: Sequence[IPNetwork]) -> str | None:
    """The client address of ``request``, believing X-Forwarded-For only from trusted peers."""
    raw = request.requestHeaders.getRawHeaders(b"x-forwarded-for") or []
    values = [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in raw]
    return resolve_client_address(peer_host(request), values, trusted_proxies)


class ClientAddressGate(UnrecognizedRequestResource):
    """Stands in for Synapse's ``/_matrix`` placeholder; notes login requests' addresses."""

    def __init__(self, logins: Registry[LoginRequest],
                 trusted_proxies: Sequence[IPNetwork]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._logins = logins
        self._trusted = tuple(trusted_proxies)
        self._warned = False

    def getChildWithDefault(self, path: bytes, request: Any) -> Resource:
        if path == b"client" and request.method == b"POST" and LOGIN_PATH.match(
            request.path or b""
        ):
            try:
                self._note(request)
            except Exception:
                logger.exception("login_security: could not note the login request's address")
        child: Resource = super().getChildWithDefault(path, request)  # type: ignore[no-untyped-call]
        return child

    def _note(self, request: Any) -> None:
        if getattr(request, "request_id_header", None):
            # Request IDs then come from a header a client may set: they cannot key notes.
            if not self._warned:
                logger.error("login_security: the listener sets request_id_header, so login "
                             "addresses cannot be tracked; address rules will refuse logins")
                self._warned = True
            return
        request_id = request.get_request_id()
        self._logins.put(request_id, LoginRequest(client_address(request, self._trusted),
                                                  peer_host(request)))
        request.notifyFinish().addBoth(self._forget, request_id)

    def _forget(self, result: object, request_id: str) -> object:
        self._logins.discard(request_id)
        return None
