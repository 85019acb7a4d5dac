"""Answer a multipart ``POST`` with a Matrix error instead of an empty 415 and a dropped line.

``SynapseRequest.requestReceived`` (Synapse 1.163) refuses every ``POST`` whose content type
is ``multipart/form-data`` before routing (so Twisted never buffers a form in memory), but its
answer is an empty 415 followed by closing the connection: not a Matrix error, and clients
often see only the dropped connection. No module hook runs that early, so
:func:`answer_multipart_with_matrix_error` wraps the method: the same refusal, made with
Synapse's own ``_respond_with_error`` (as it answers a bad ``Content-Length``): a JSON body
with ``errcode`` and ``error``, and ``Connection: close``. Every other request goes to
Synapse's method unchanged.
"""

from __future__ import annotations

from typing import Any

from synapse.api.errors import Codes, SynapseError
from synapse.http.site import SynapseRequest

MESSAGE = "multipart/form-data is not accepted here; send the body as application/json"
_MARK = "_hearth_multipart_refusal"


def is_multipart_post(request: Any, command: bytes) -> bool:
    """Whether Synapse would refuse this request before routing for its content type."""
    if command != b"POST":
        return False
    ctype = request.requestHeaders.getRawHeaders(b"content-type")
    return bool(ctype) and b"multipart/form-data" in ctype[0].lower()


def answer_multipart_with_matrix_error() -> None:
    """Install the wrapper once per process (modules may each call it)."""
    original = SynapseRequest.requestReceived
    if getattr(original, _MARK, False):
        return

    def requestReceived(self: SynapseRequest, command: bytes, path: bytes,
                        version: bytes) -> None:
        if is_multipart_post(self, command):
            self.method, self.uri = command, path
            self.clientproto = version
            # The connection is closed after the answer: say so, or a client reuses it.
            self.responseHeaders.setRawHeaders(b"Connection", [b"close"])
            self._respond_with_error(SynapseError(415, MESSAGE, Codes.NOT_JSON))
            return
        original(self, command, path, version)

    setattr(requestReceived, _MARK, True)
    requestReceived.__wrapped__ = original  # type: ignore[attr-defined]
    SynapseRequest.requestReceived = requestReceived  # type: ignore[method-assign]
