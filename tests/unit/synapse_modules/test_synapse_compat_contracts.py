"""Contracts of the Synapse internals we use, against the installed Synapse's own code.

One test per entry of ``synapse_compat.registry`` that needs no running server (those that do
are in tests/integration/synapse_modules/test_synapse_compat.py). Each calls the real class or
function the way our modules rely on it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import synapse.handlers.auth as synapse_auth
from synapse.api.errors import UnrecognizedRequestError
from synapse.handlers.auth import AuthHandler
from synapse.logging.context import ContextRequest, PreserveLoggingContext
from synapse.synapse_rust.logcontext import LoggingContext
from synapse.util.httpresourcetree import create_resource_tree
from twisted.internet import defer
from twisted.web.resource import getChildForRequest

from hearth.synapse_modules.login_security.gate import ClientAddressGate
from hearth.synapse_modules.login_security.request_notes import LoginRequest, Registry
from hearth.synapse_modules.synapse_compat.context import (
    current_request_record,
    make_deferred_yieldable,
)
from hearth.synapse_modules.synapse_compat.password_hash import check_password
from hearth.synapse_modules.synapse_compat.web import (
    DirectServeHtmlResource,
    DirectServeJsonResource,
    Resource,
    SynapseRequest,
    UnrecognizedRequestResource,
)


class _Json(DirectServeJsonResource):
    async def _async_render_GET(self, request: Any) -> tuple[int, Any]:
        return 200, {"method": "get"}


class _Html(DirectServeHtmlResource):
    async def _async_render_POST(self, request: Any) -> tuple[int, bytes]:
        return 200, b"<p>posted</p>"


def _render(resource: Any, method: bytes) -> Any:
    return asyncio.run(resource._async_render(SimpleNamespace(method=method)))


def test_direct_serve_json_resource_dispatches_by_method() -> None:
    """Built with no arguments; GET (and HEAD) reach ``_async_render_GET``; others are 405."""
    resource = _Json()
    assert _render(resource, b"GET") == (200, {"method": "get"})
    assert _render(resource, b"HEAD") == (200, {"method": "get"})
    with pytest.raises(UnrecognizedRequestError) as refused:
        _render(resource, b"DELETE")
    assert refused.value.code == 405


def test_direct_serve_html_resource_dispatches_by_method() -> None:
    """The HTML base dispatches the same way and renders errors as its HTML template."""
    resource = _Html()
    assert _render(resource, b"POST") == (200, b"<p>posted</p>")
    assert "{code}" in resource.ERROR_TEMPLATE or "{msg}" in resource.ERROR_TEMPLATE


def test_synapse_request_has_the_request_id_and_twisted_request_surface() -> None:
    """What the gate and the APIs read: the request ID, its header, and Twisted's request."""
    assert "request_id_header" in inspect.signature(SynapseRequest.__init__).parameters
    assert list(inspect.signature(SynapseRequest.get_request_id).parameters) == ["self"]
    for name in ("notifyFinish", "getHeader", "setHeader", "getClientAddress"):
        assert callable(getattr(SynapseRequest, name)), name


class _LoginRequest:
    """Just the parts of a SynapseRequest the resource walk and the gate touch."""

    def __init__(self, path: bytes) -> None:
        self.method = b"POST"
        self.path = path
        self.prepath: list[bytes] = []
        self.postpath = path.split(b"/")[1:]
        self.client = SimpleNamespace(host="192.0.2.7")
        self.request_id_header = None
        self.requestHeaders = SimpleNamespace(getRawHeaders=lambda name: None)
        self.finished: list[Callable[..., Any]] = []

    def get_request_id(self) -> str:
        return "POST-1"

    def notifyFinish(self) -> defer.Deferred[None]:
        return defer.Deferred()


def test_resource_tree_takeover_routes_login_through_the_gate() -> None:
    """Synapse's tree builder gives /_matrix to our gate, which keeps /_matrix/client under it."""
    logins: Registry[LoginRequest] = Registry()
    client = Resource()  # type: ignore[no-untyped-call]
    client.isLeaf = True
    root = create_resource_tree({"/_matrix/client": client,
                                 "/_matrix": ClientAddressGate(logins, [])},
                                Resource())  # type: ignore[no-untyped-call]
    request = _LoginRequest(b"/_matrix/client/v3/login")
    assert getChildForRequest(root, request) is client  # type: ignore[no-untyped-call]
    assert logins.get("POST-1") == LoginRequest("192.0.2.7", "192.0.2.7")
    gate = root.children[b"_matrix"]
    assert isinstance(gate, ClientAddressGate) and isinstance(gate, UnrecognizedRequestResource)


def test_logging_context_request_is_the_record_of_the_request() -> None:
    """Inside a request's logging context the record is there, with the request's ID."""
    record = ContextRequest(request_id="GET-7", ip_address="192.0.2.1", site_tag="client",
                            requester=None, authenticated_entity=None, method="GET",
                            url="/login", protocol="1.1", user_agent="test")
    assert current_request_record() is None
    with PreserveLoggingContext(LoggingContext(name="GET-7", server_name="hs",
                                               request=record)):
        assert current_request_record() is record
    assert current_request_record() is None


def test_make_deferred_yieldable_returns_the_deferred_result() -> None:
    """A fired Deferred comes back with its result and the logging context unchanged."""
    resolved = make_deferred_yieldable(defer.succeed(42))
    results: list[int] = []
    resolved.addCallback(results.append)
    assert results == [42] and current_request_record() is None


@pytest.fixture
def synapse_inline(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Synapse's own AuthHandler.hash/validate_hash, with the thread hop run inline."""
    async def inline(reactor: Any, func: Callable[..., Any], *args: Any) -> Any:
        return func(*args)

    monkeypatch.setattr(synapse_auth, "defer_to_thread", inline)

    def call(method: str, password: str, *args: Any, pepper: str = "") -> Any:
        handler = SimpleNamespace(bcrypt_rounds=4, hs=SimpleNamespace(
            config=SimpleNamespace(auth=SimpleNamespace(password_pepper=pepper)),
            get_reactor=lambda: None))
        return asyncio.run(getattr(AuthHandler, method)(handler, password, *args))

    return call


@pytest.mark.parametrize("password", ["café-1", "\uff46\uff55\uff4c\uff4c", "x" * 100, "pw"])
@pytest.mark.parametrize("pepper", ["", "pep"])
def test_password_hash_synapse_hashes_we_check(synapse_inline: Callable[..., Any],
                                               password: str, pepper: str) -> None:
    """A hash made by Synapse's AuthHandler.hash: our check and Synapse's agree on it."""
    stored = synapse_inline("hash", password, pepper=pepper)
    assert check_password(password, stored, pepper)
    assert synapse_inline("validate_hash", password, stored, pepper=pepper)
    assert not check_password(password + "!", stored, pepper) or len(password) >= 72
    assert not check_password(password, stored, pepper + "x") or len(password) >= 72
    assert not synapse_inline("validate_hash", "wrong", stored, pepper=pepper)
    assert not check_password("wrong", stored, pepper)


def test_password_hash_missing_or_malformed_never_matches(
    synapse_inline: Callable[..., Any],
) -> None:
    """No hash (SSO-only accounts) or garbage: refused, as Synapse refuses."""
    assert not check_password("pw", None) and not check_password("pw", "")
    assert not check_password("pw", "not-a-hash")
    assert not synapse_inline("validate_hash", "pw", "")
