"""Contracts of the Synapse internals we use, against the installed Synapse's own code.

One test per entry of ``synapse_compat.registry`` that needs no running server (those that do
are in tests/integration/hearth/test_synapse_compat.py). Each calls the real class or
function the way our modules rely on it.
"""

from __future__ import annotations

import asyncio
import inspect
import io
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

from hearth.synapse_compat.context import (
    current_request_record,
    current_requester,
    make_deferred_yieldable,
)
from hearth.synapse_compat.password_hash import check_password
from hearth.synapse_compat.routes import login_path, login_patterns
from hearth.synapse_compat.web import (
    DirectServeHtmlResource,
    DirectServeJsonResource,
    Resource,
    SynapseRequest,
    UnrecognizedRequestResource,
)
from hearth.synapse_modules.login_security.gate import ClientAddressGate
from hearth.synapse_modules.login_security.request_notes import RequestNote, RequestNotes, Route


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
        self.content = io.BytesIO(b'{"type": "m.login.password"}')
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
    logins = RequestNotes()
    client = Resource()  # type: ignore[no-untyped-call]
    client.isLeaf = True
    root = create_resource_tree({"/_matrix/client": client,
                                 "/_matrix": ClientAddressGate(logins, [])},
                                Resource())  # type: ignore[no-untyped-call]
    request = _LoginRequest(b"/_matrix/client/v3/login")
    assert getChildForRequest(root, request) is client  # type: ignore[no-untyped-call]
    assert logins.get("POST-1") == RequestNote(Route.LOGIN, "192.0.2.7", "192.0.2.7",
                                               "m.login.password")
    assert request.content.tell() == 0  # Synapse reads the body from the start
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


def test_logging_context_requester_is_the_access_tokens_user() -> None:
    """SynapseRequest.requester's setter puts the user ID into the context's record."""
    from synapse.http.site import SynapseRequest as Real

    record = ContextRequest(request_id="POST-8", ip_address="192.0.2.1", site_tag="client",
                            requester=None, authenticated_entity=None, method="POST",
                            url="/delete_devices", protocol="1.1", user_agent="test")
    assert current_requester(record) is None
    holder = SimpleNamespace(logcontext=SimpleNamespace(request=record), _requester=None)
    holder.get_authenticated_entity = lambda: Real.get_authenticated_entity(holder)  # type: ignore[arg-type]
    Real.requester.fset(holder, "@alice:hs")  # type: ignore[attr-defined]
    assert current_requester(record) == "@alice:hs"
    assert current_requester(None) is None


def test_login_servlet_patterns_are_every_login_path_synapse_routes() -> None:
    """api/v1, r0, v3 and unstable; no trailing slash, no other suffix."""
    assert login_patterns()
    for version in ("api/v1", "r0", "v3", "unstable"):
        assert login_path(f"/_matrix/client/{version}/login".encode()), version
    for path in (b"/_matrix/client/v3/login/", b"/_matrix/client/v3/login/sso/redirect",
                 b"/_matrix/client/v4/login", b"/_matrix/client/v3/logi\xc3\xb1",
                 b"/_matrix/client/api/v2/login"):
        assert not login_path(path), path


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


def test_ratelimit_override_read_through_synapse_cached_store() -> None:
    """ModuleApi keeps the main store as ``_store``; get_ratelimit_for_user is a cached
    method whose set/delete invalidate it on every process; our reader maps its row."""
    from synapse.module_api import ModuleApi
    from synapse.storage.databases.main import room as synapse_room
    from synapse.util.caches.descriptors import DeferredCacheDescriptor

    from hearth.synapse_compat.ratelimit_override import override_reader

    assert "self._store" in inspect.getsource(ModuleApi.__init__)
    store_class = synapse_room.RoomWorkerStore
    assert isinstance(store_class.__dict__["get_ratelimit_for_user"], DeferredCacheDescriptor)
    for writer in (store_class.set_ratelimit_for_user, store_class.delete_ratelimit_for_user):
        source = inspect.getsource(writer)
        assert "_invalidate_cache_and_stream" in source and "get_ratelimit_for_user" in source

    rows = {"@exempt:hs": synapse_room.RatelimitOverride(messages_per_second=0, burst_count=0),
            "@fast:hs": synapse_room.RatelimitOverride(messages_per_second=50, burst_count=9)}

    async def get_ratelimit_for_user(user_id: str) -> Any:
        return rows.get(user_id)

    api = SimpleNamespace(_store=SimpleNamespace(get_ratelimit_for_user=get_ratelimit_for_user))
    read = override_reader(api)  # type: ignore[arg-type]
    exempt, fast, none = (asyncio.run(read(u)) for u in ("@exempt:hs", "@fast:hs", "@none:hs"))
    assert exempt is not None and exempt.exempt
    assert fast is not None and (fast.exempt, fast.messages_per_second, fast.burst_count) == (
        False, 50.0, 9)
    assert none is None


def test_multipart_refusal_answers_a_multipart_post_with_a_matrix_error() -> None:
    """Synapse refuses multipart POSTs before routing; ours does so through _respond_with_error."""
    from synapse.api.errors import SynapseError
    from twisted.web.http_headers import Headers

    from hearth.synapse_compat.multipart_refusal import (
        answer_multipart_with_matrix_error,
    )

    answer_multipart_with_matrix_error()
    answer_multipart_with_matrix_error()  # once per process, whoever calls it
    wrapper = SynapseRequest.requestReceived
    original = wrapper.__wrapped__  # type: ignore[attr-defined]
    assert not hasattr(original, "__wrapped__")
    source = inspect.getsource(original)
    assert "multipart/form-data" in source and "UNSUPPORTED_MEDIA_TYPE" in source
    assert list(inspect.signature(SynapseRequest._respond_with_error).parameters) == [
        "self", "synapse_error"]
    sent: list[SynapseError] = []
    fake = SimpleNamespace(
        requestHeaders=Headers({b"content-type": [b"Multipart/Form-Data; boundary=b"]}),
        responseHeaders=Headers(), _respond_with_error=sent.append)
    wrapper(fake, b"POST", b"/_matrix/client/v3/login", b"HTTP/1.1")  # type: ignore[arg-type]
    assert [(e.code, e.errcode) for e in sent] == [(415, "M_NOT_JSON")]
    assert fake.uri == b"/_matrix/client/v3/login"
    assert fake.responseHeaders.getRawHeaders(b"connection") == [b"close"]


def test_front_door_interceptors_see_each_request_in_module_order() -> None:
    """The front door holds /_matrix in Synapse's tree; interceptors run in the order added,
    each given the previous choice, and a failing one refuses the request."""
    from hearth.synapse_compat.front_door import ErrorResource, FrontDoor

    client = Resource()  # type: ignore[no-untyped-call]
    client.isLeaf = True
    door = FrontDoor()
    seen: list[str] = []
    replacement = Resource()  # type: ignore[no-untyped-call]
    replacement.isLeaf = True

    def first(segment: bytes, request: Any, chosen: Resource) -> Resource:
        seen.append("first")
        assert chosen is client
        return chosen

    def second(segment: bytes, request: Any, chosen: Resource) -> Resource:
        seen.append("second")
        return replacement if segment == b"client" else chosen

    door.add("first", first)
    door.add("second", second)
    root = create_resource_tree({"/_matrix/client": client, "/_matrix": door},
                                Resource())  # type: ignore[no-untyped-call]
    request = _LoginRequest(b"/_matrix/client/v3/login")
    assert getChildForRequest(root, request) is replacement  # type: ignore[no-untyped-call]
    assert seen == ["first", "second"]

    def broken(segment: bytes, request: Any, chosen: Resource) -> Resource:
        raise RuntimeError("boom")

    door.add("broken", broken)
    refused = getChildForRequest(root, _LoginRequest(b"/_matrix/client/v3/login"))  # type: ignore[no-untyped-call]
    assert isinstance(refused, ErrorResource)


def test_request_processing_once_is_not_reentrant() -> None:
    """processing() refuses to be entered twice, so deferred work must stay outside it; the
    JSON responder and the logging-context helpers have the shapes we call."""
    from synapse.http.server import respond_with_json
    from synapse.http.site import SynapseRequest as Real
    from synapse.logging.context import run_in_background

    assert "Request is already processing" in inspect.getsource(Real.processing)
    setter = inspect.getsource(Real.requester.fset)  # type: ignore[attr-defined]
    assert "assert self._requester is None" in setter
    assert list(inspect.signature(respond_with_json).parameters)[:4] == [
        "request", "code", "json_object", "send_cors"]
    assert "f" in inspect.signature(run_in_background).parameters
    assert "new_context" in inspect.signature(PreserveLoggingContext).parameters


class _HeaderRequest:
    def __init__(self) -> None:
        self.headers: dict[bytes, bytes] = {}

    def setHeader(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value


def test_media_file_headers_inline_only_for_safe_types() -> None:
    """Synapse's add_file_headers: PNG inline with its name, SVG and PDF as attachments,
    text with a charset; our wrapper adds the sandbox CSP and nosniff."""
    from hearth.synapse_compat.media_serving import set_file_headers

    png = _HeaderRequest()
    set_file_headers(png, "image/png", 10, "cat.png")
    assert png.headers[b"content-disposition"] == b"inline; filename=cat.png"
    assert png.headers[b"content-length"] == b"10"
    assert b"sandbox" in png.headers[b"content-security-policy"]
    assert png.headers[b"x-content-type-options"] == b"nosniff"
    for mime in ("image/svg+xml", "application/pdf"):
        other = _HeaderRequest()
        set_file_headers(other, mime, None, "x")
        assert other.headers[b"content-disposition"].startswith(b"attachment")
    text = _HeaderRequest()
    set_file_headers(text, "text/plain", 1, None)
    assert text.headers[b"content-type"] == b"text/plain; charset=UTF-8"
    from synapse.media._base import ThreadedFileSender

    assert list(inspect.signature(ThreadedFileSender.beginFileTransfer).parameters) == [
        "self", "file", "consumer"]


def test_media_local_copy_paths_and_cache_manager() -> None:
    """Synapse's local layout is local_content/ab/cd/rest, and ensure_media_is_in_local_cache
    takes a FileInfo as an async context manager."""
    from synapse.media._base import FileInfo
    from synapse.media.filepath import MediaFilePaths
    from synapse.media.media_storage import MediaStorage

    path = MediaFilePaths("/store").local_media_filepath("abcdefgh")
    assert str(path) == "/store/local_content/ab/cd/efgh"
    assert FileInfo(None, "abcdefgh").file_id == "abcdefgh"
    manager = MediaStorage.ensure_media_is_in_local_cache
    assert list(inspect.signature(manager).parameters) == ["self", "file_info"]
    assert hasattr(manager(SimpleNamespace(), FileInfo(None, "x")), "__aenter__")  # type: ignore[arg-type]


def test_room_media_ids_signature() -> None:
    """RoomStore.get_media_mxcs_in_room(room_id) is a coroutine giving (local, remote)."""
    from synapse.storage.databases.main.room import RoomWorkerStore

    method = RoomWorkerStore.get_media_mxcs_in_room
    assert inspect.iscoroutinefunction(method)
    assert list(inspect.signature(method).parameters) == ["self", "room_id"]


# --- media storage provider (media_repo/storage) ---------------------------------------------


def test_homeserver_module_api_is_built_from_the_homeserver() -> None:
    """HomeServer.get_module_api builds a ModuleApi over itself; our helper returns it."""
    from synapse.server import HomeServer

    from hearth.synapse_compat.media_storage import module_api_of

    assert "ModuleApi(self" in inspect.getsource(HomeServer.get_module_api)
    api = object()
    assert module_api_of(SimpleNamespace(get_module_api=lambda: api)) is api


def test_media_background_jobs_instance_follows_synapse_rule() -> None:
    """Synapse runs media jobs where the setting names this instance, or everywhere when it
    is unset; ours decides the same for the three cases."""
    from synapse.config.repository import ContentRepositoryConfig
    from synapse.media.url_previewer import UrlPreviewer

    from hearth.synapse_compat.media_storage import runs_media_background_jobs

    assert "media_instance_running_background_jobs" in inspect.getsource(
        ContentRepositoryConfig.read_config)
    rule = inspect.getsource(UrlPreviewer.__init__)
    assert "instance_running_jobs is None" in rule
    assert "instance_running_jobs == hs.get_instance_name()" in rule

    def hs(setting: str | None, name: str) -> Any:
        return SimpleNamespace(config=SimpleNamespace(media=SimpleNamespace(
            media_instance_running_background_jobs=setting)), get_instance_name=lambda: name)

    assert runs_media_background_jobs(hs(None, "media1"))
    assert runs_media_background_jobs(hs("media1", "media1"))
    assert not runs_media_background_jobs(hs("media1", "media2"))


def _media_storage(tmp_path: Any, provider: Any) -> Any:
    from synapse.media.filepath import MediaFilePaths
    from synapse.media.media_storage import MediaStorage
    from synapse.media.storage_provider import FileStorageProviderBackend, StorageProviderWrapper

    async def not_spam(*_: Any) -> str:
        return "NOT_SPAM"

    hs = SimpleNamespace(
        get_reactor=lambda: None, get_clock=lambda: None,
        config=SimpleNamespace(media=SimpleNamespace(media_store_path=str(tmp_path))),
        get_module_api_callbacks=lambda: SimpleNamespace(spam_checker=SimpleNamespace(
            NOT_SPAM="NOT_SPAM", check_media_file_for_spam=not_spam)))
    wrapper = StorageProviderWrapper(provider, store_local=True, store_synchronous=True,
                                     store_remote=True)
    return MediaStorage(hs, MediaFilePaths(str(tmp_path)), [wrapper],  # type: ignore[arg-type]
                        FileStorageProviderBackend(hs, str(tmp_path)))  # type: ignore[arg-type]


def test_storage_provider_interface_failed_store_removes_the_local_file(tmp_path: Any) -> None:
    """A provider raising in store_file (store_synchronous) fails the store: Synapse removes
    the file it wrote and re-raises before any media row could be written."""
    from synapse.api.errors import SynapseError
    from synapse.media._base import FileInfo

    from hearth.synapse_compat.media_storage import describe_file

    seen: list[Any] = []

    class Refusing:
        async def store_file(self, path: str, file_info: Any) -> None:
            seen.append((path, describe_file(file_info)))
            raise SynapseError(503, "The media store is unavailable")

    storage = _media_storage(tmp_path, Refusing())

    async def upload() -> None:
        async with storage.store_into_file(FileInfo(None, "abcdefgh")) as (handle, _):
            handle.write(b"bytes")

    with pytest.raises(SynapseError, match="unavailable"):
        asyncio.run(upload())
    assert not (tmp_path / "local_content/ab/cd/efgh").exists()
    assert seen[0][0] == "local_content/ab/cd/efgh"
    assert (seen[0][1].server_name, seen[0][1].file_id, seen[0][1].thumbnail) == (
        None, "abcdefgh", None)


def test_storage_provider_interface_wrapper_skips_url_previews_and_awaits() -> None:
    """The wrapper never hands URL-preview files to the provider and awaits store_file; the
    provider class is loaded with parse_config then (hs, parsed)."""
    from synapse.media._base import FileInfo, ThumbnailInfo
    from synapse.media.media_repository import MediaRepository
    from synapse.media.storage_provider import StorageProviderWrapper
    from synapse.util.module_loader import load_module

    from hearth.synapse_compat.media_storage import describe_file

    stored: list[str] = []

    class Recording:
        async def store_file(self, path: str, file_info: Any) -> None:
            stored.append(path)

        async def fetch(self, path: str, file_info: Any) -> Any:
            stored.append("fetch " + path)

    wrapper = StorageProviderWrapper(Recording(), True, True, True)  # type: ignore[arg-type]
    asyncio.run(wrapper.store_file("url", FileInfo(None, "x", url_cache=True)))
    asyncio.run(wrapper.store_file("kept", FileInfo("other.org", "fsid")))
    assert asyncio.run(wrapper.fetch("url", FileInfo(None, "x", url_cache=True))) is None
    assert stored == ["kept"]
    thumb = describe_file(FileInfo(None, "x", thumbnail=ThumbnailInfo(32, 24, "crop",
                                                                       "image/png", 10)))
    assert thumb.thumbnail == (32, 24, "image/png", "crop")
    assert "clz(hs, provider_config)" in inspect.getsource(MediaRepository.__init__)
    assert "parse_config" in inspect.getsource(load_module)


def test_file_responder_streams_a_reader_and_closes_it() -> None:
    """FileResponder(hs, reader) streams with ThreadedFileSender and closes on exit."""
    import io

    from synapse.media.media_storage import FileResponder

    from hearth.synapse_compat.media_storage import file_responder

    assert "ThreadedFileSender" in inspect.getsource(FileResponder.write_to_consumer)
    reader = io.BytesIO(b"x")
    responder = file_responder(SimpleNamespace(), reader)
    assert isinstance(responder, FileResponder)
    with responder:
        pass
    assert reader.closed


def test_synapse_media_tables_deleted_media_found_on_synapse_schema(tmp_path: Any) -> None:
    """On the schema Synapse creates, the reconciler's query finds exactly the mappings whose
    media rows are gone: local and remote, originals and thumbnails; quarantined kept."""
    import sqlite3

    from synapse.storage.database import LoggingDatabaseConnection
    from synapse.storage.engines import create_engine
    from synapse.storage.prepare_database import prepare_database

    from hearth.media_repo.storage.blobs import OBJECTS, SCHEMA
    from hearth.owned_tables import migrate_txn
    from hearth.synapse_compat.media_storage_tables import media_gone_txn

    path = str(tmp_path / "homeserver.db")
    engine = create_engine({"name": "sqlite3", "args": {"database": path}})
    conn = sqlite3.connect(path)
    prepare_database(LoggingDatabaseConnection(conn=conn, engine=engine, default_txn_name="t",
                                               server_name="hs"), engine, config=None)
    cursor = conn.cursor()
    migrate_txn(cursor, SCHEMA)
    cursor.execute("INSERT INTO local_media_repository (media_id, media_type, created_ts, "
                   "quarantined_by) VALUES ('kept', 'image/png', 0, NULL), "
                   "('quarantined', 'image/png', 0, '@admin:hs')")
    cursor.execute("INSERT INTO local_media_repository_thumbnails (media_id, thumbnail_width, "
                   "thumbnail_height, thumbnail_type, thumbnail_method, thumbnail_length) "
                   "VALUES ('kept', 32, 32, 'image/png', 'crop', 1)")
    cursor.execute("INSERT INTO remote_media_cache (media_origin, media_id, filesystem_id) "
                   "VALUES ('o.org', 'm', 'fs1')")
    cursor.execute("INSERT INTO remote_media_cache_thumbnails (media_origin, media_id, "
                   "thumbnail_width, thumbnail_height, thumbnail_type, thumbnail_method, "
                   "filesystem_id) VALUES ('o.org', 'm', 32, 32, 'image/png', 'crop', 'fs1')")
    rows = [("l/kept", "", "kept", None), ("l/quarantined", "", "quarantined", None),
            ("l/gone", "", "gone", None), ("t/kept", "", "kept", 32), ("t/other", "", "kept", 64),
            ("r/kept", "o.org", "fs1", None), ("r/gone", "o.org", "fs2", None),
            ("rt/kept", "o.org", "fs1", 32), ("rt/gone", "o.org", "fs1", 96)]
    for path_, origin, file_id, width in rows:
        cursor.execute(f"INSERT INTO {OBJECTS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 0)",
                       (path_, origin, file_id, width, width, width and "image/png",
                        width and "crop", "0" * 64))
    gone, after = media_gone_txn(cursor, OBJECTS, 1, "", 100)
    assert sorted(gone) == ["l/gone", "r/gone", "rt/gone", "t/other"] and after is None
    conn.close()


def test_media_file_paths_rel_layout_of_local_media() -> None:
    """Local originals are local_content/ab/cd/<rest>, as Synapse hands them to providers."""
    from synapse.media.filepath import MediaFilePaths

    from hearth.synapse_compat.media_storage import local_media_rel_path

    assert local_media_rel_path("abcdefgh") == "local_content/ab/cd/efgh"
    assert MediaFilePaths("/store").local_media_filepath_rel("abcdefgh") == \
        local_media_rel_path("abcdefgh")


def test_presign_file_headers_are_synapse_download_headers() -> None:
    """The recorded headers are Synapse's: inline for safe images, attachment for SVG,
    RFC 5987 file names, charset for text, Synapse's cache policy."""
    from hearth.synapse_compat.media_storage import synapse_file_headers

    png = synapse_file_headers("image/png", "a b.png")
    assert png["Content-Type"] == "image/png"
    assert png["Content-Disposition"] == "inline; filename*=utf-8''a%20b.png"
    assert "max-age" in png["Cache-Control"]
    svg = synapse_file_headers("image/svg+xml", None)
    assert svg["Content-Disposition"] == "attachment"
    assert synapse_file_headers("text/plain", None)["Content-Type"] == (
        "text/plain; charset=UTF-8")
