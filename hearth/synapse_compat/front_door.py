"""One resource at ``/_matrix`` that lets several modules see a request before Synapse does.

Synapse builds its resource tree so that a module resource registered at ``/_matrix`` takes over
the children Synapse put there (``client``, ``media``, ``federation``, ...) — see the registry's
``resource_tree_takeover``. Only one resource can hold that path, yet login security (the
client-address gate and request screen) and the media pipeline (uploads, redirects) both need
to be in front of Synapse's servlets. The front door holds that path once per homeserver and
asks each module's interceptor, in the order the modules were loaded, which resource should
handle the request: Synapse's own child, or one of the module's. An interceptor that fails is
logged and the request refused (fail closed), never passed on unchecked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

from hearth.synapse_compat.web import Resource, UnrecognizedRequestResource

logger = logging.getLogger(__name__)

PATH = "/_matrix"


# Given the segment under /_matrix, the request and the resource chosen so far (Synapse's
# child at first), return the resource that should handle the request.
Interceptor = Callable[[bytes, Any, Resource], Resource]


class _Registrar(Protocol):
    def register_web_resource(self, path: str, resource: Any) -> None: ...


class ErrorResource(Resource):
    """Answers one request with a Matrix error (a leaf: nothing routes past it)."""

    isLeaf = True

    def __init__(self, status: int, errcode: str, message: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._status = status
        self._body = json.dumps({"errcode": errcode, "error": message}).encode()

    def render(self, request: Any) -> bytes:
        request.setResponseCode(self._status)
        request.setHeader(b"Content-Type", b"application/json")
        request.setHeader(b"Content-Length", str(len(self._body)).encode())
        return self._body


class FrontDoor(UnrecognizedRequestResource):
    """Stands in for Synapse's ``/_matrix`` placeholder and asks each interceptor in turn."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._interceptors: list[tuple[str, Interceptor]] = []

    def add(self, name: str, interceptor: Interceptor) -> None:
        self._interceptors.append((name, interceptor))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self._interceptors)

    def getChildWithDefault(self, path: bytes, request: Any) -> Resource:
        chosen: Resource = super().getChildWithDefault(path, request)  # type: ignore[no-untyped-call]
        for name, interceptor in self._interceptors:
            try:
                chosen = interceptor(path, request, chosen)
            except Exception:
                logger.exception("%s: could not route the request; refusing it", name)
                return ErrorResource(503, "M_UNKNOWN",
                                     "The server could not check this request; try again")
        return chosen


# One door per homeserver object (one per Synapse process; tests may build several). Keyed by
# identity, holding the owner so its id cannot be reused while the door is listed.
_doors: dict[int, tuple[Any, FrontDoor]] = {}


def front_door(api: _Registrar) -> FrontDoor:
    """This homeserver's front door, registered at ``/_matrix`` by the first module asking."""
    owner = getattr(api, "_hs", api)
    found = _doors.get(id(owner))
    if found is not None and found[0] is owner:
        return found[1]
    door = FrontDoor()
    _doors[id(owner)] = (owner, door)
    api.register_web_resource(PATH, door)
    return door

