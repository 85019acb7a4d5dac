"""Synapse's HTTP classes our resources build on, and the Twisted tree they live in.

``ModuleApi.register_web_resource`` takes any Twisted resource; these classes give ours
Synapse's request handling (JSON or HTML rendering, ``SynapseError`` as a Matrix error, the
request ID) instead of re-implementing it. See :mod:`.registry` for what each is relied on for.
"""

from __future__ import annotations

from synapse.http.server import (
    DirectServeHtmlResource,
    DirectServeJsonResource,
    UnrecognizedRequestResource,
)
from synapse.http.site import SynapseRequest
from twisted.web.resource import Resource

__all__ = [
    "DirectServeHtmlResource",
    "DirectServeJsonResource",
    "Resource",
    "SynapseRequest",
    "UnrecognizedRequestResource",
]
