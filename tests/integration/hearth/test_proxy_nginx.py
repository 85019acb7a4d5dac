"""The rendered production proxy config in a real nginx, request by request: the admin
allow-list holds for every admin path and spelling, each route class reaches its upstream,
TLS 1.3 only, HSTS on every answer."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hearth.render import PROFILES_DIR, plan_workers, render
from hearth.settings import load_settings
from tests.harness.nginx import running_nginx, self_signed_certificate
from tests.harness.ports import free_port, free_port_block

ROOM = "!room:example.org"
USER = "@alice:example.org"

# Every kind of admin endpoint: Synapse's (v1, v2, the bare prefix) and this project's.
ADMIN_PATHS = (
    "/_synapse/admin",
    "/_synapse/admin/v1/server_version",
    "/_synapse/admin/v1/register",
    f"/_synapse/admin/v2/users/{USER}",
    "/_synapse/client/hearth/v1/admin/roles",
    f"/_synapse/client/hearth/v1/admin/roles/{USER}",
    f"/_synapse/client/hearth/v1/admin/login_security/users/{USER}",
)
# Other spellings of admin paths that nginx normalises (or a backend may): never forwarded
# from an address outside the allowed ranges.
ADMIN_SPELLINGS = (
    "//_synapse/admin/v1/server_version",
    "/_synapse//admin/v1/server_version",
    "/_synapse/./admin/v1/server_version",
    "/_matrix/../_synapse/admin/v1/server_version",
    "/_synapse/%61dmin/v1/server_version",
    "/_synapse%2Fadmin/v1/server_version",
    "/_synapse/admin/v1/server_version?x=1",
    "/_synapse/client/hearth/v1//admin/roles",
    "/_synapse/client/./hearth/v1/admin/roles",
    "/_synapse/client/hearth/v1/%61dmin/roles",
    "/_synapse/client/hearth/v1%2Fadmin/roles",
    "/_synapse/client/hearth/v1/admin%2Froles",
    "/_matrix/client/v3/../../../_synapse/client/hearth/v1/admin/roles",
    "/_synapse/client/hearth/v1/admin/roles/?user_id=@a:b",
)
METHODS = ("GET", "POST", "PUT", "DELETE")

# Requests that Synapse's main process serves (everything not routed to a worker).
MAIN_ROUTES = (
    ("GET", "/_matrix/client/versions"),
    ("POST", "/_matrix/client/v3/login"),
    ("POST", "/_matrix/client/api/v1/login"),
    ("PUT", f"/_matrix/client/v3/rooms/{ROOM}/send/m.room.message/t1"),
    ("POST", "/_matrix/client/v3/createRoom"),
    ("GET", "/_matrix/federation/v1/version"),
    ("GET", "/_matrix/key/v2/server"),
    ("GET", "/_synapse/client/hearth/mfa/"),
    ("GET", "/_synapse/client/hearth/v1/mfa/status"),
)
GENERIC_ENDPOINTS = (
    "sync", "events", "initialSync", f"rooms/{ROOM}/messages", f"rooms/{ROOM}/context/$e",
    f"rooms/{ROOM}/members", f"rooms/{ROOM}/state", "keys/query", "keys/changes",
    "user_directory/search", f"profile/{USER}",
)
GENERIC_ROUTES = tuple(("GET", f"/_matrix/client/{version}/{endpoint}")
                       for version in ("r0", "v3", "unstable") for endpoint in GENERIC_ENDPOINTS)
MEDIA_ROUTES = (
    ("GET", "/_matrix/client/v1/media/download/example.org/abc"),
    ("GET", "/_matrix/client/v1/media/thumbnail/example.org/abc"),
    ("GET", "/_matrix/media/v3/download/example.org/abc"),
    ("POST", "/_matrix/media/v3/upload"),
    ("GET", "/_matrix/federation/v1/media/download/abc"),
)
# Not for the public: no upstream may see these.
UNROUTED = ("/_synapse/metrics", "/metrics", "/_synapse/replication/x", "/")


@dataclass
class Upstreams:
    """Small HTTP servers standing in for Synapse's processes; each answers with its port and
    what it received, and keeps the paths it served."""

    ports: dict[str, tuple[int, ...]]
    seen: list[str] = field(default_factory=list)

    def kind_of(self, port: int) -> str:
        return next(kind for kind, ports in self.ports.items() if port in ports)


def _echo_server(port: int, seen: list[str]) -> ThreadingHTTPServer:
    class Echo(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            seen.append(self.path)
            body = json.dumps({"upstream_port": port, "path": self.path,
                               "x_forwarded_for": self.headers.get("X-Forwarded-For")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass(frozen=True)
class Proxy:
    """One rendered and running proxy: where it listens and the certificate to trust."""

    port: int
    certificate: Path
    upstreams: Upstreams


def _assignments(main_port: int, base_port: int) -> tuple[str, ...]:
    return (f"server.port={main_port}", f"workers.base_port={base_port}",
            f"workers.replication_port={free_port()}", f"metrics.port={free_port()}",
            f"metrics.supervisor_port={free_port()}")


@pytest.fixture(scope="module")
def upstreams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Upstreams, int, int]]:
    """Echo servers on the ports the production profile gives the main process, the generic
    workers and the media worker."""
    main_port, base_port = free_port(), free_port_block(10)
    settings = load_settings("production", PROFILES_DIR, None, _assignments(main_port, base_port),
                             {})
    workers = plan_workers(settings, tmp_path_factory.mktemp("plan"))
    ports = {"main": (main_port,),
             "generic": tuple(w.port for w in workers if w.kind == "generic"),
             "media": tuple(w.port for w in workers if w.kind == "media")}
    assert len(ports["generic"]) >= 2 and ports["media"], ports
    found = Upstreams(ports)
    servers = [_echo_server(port, found.seen) for group in ports.values() for port in group]
    try:
        yield found, main_port, base_port
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def _proxy(tmp: Path, upstream: tuple[Upstreams, int, int], allowed: str) -> Iterator[Proxy]:
    found, main_port, base_port = upstream
    certificate, key = self_signed_certificate(tmp / "tls", ("matrix.test", "127.0.0.1", "::1"))
    port = free_port()
    settings = load_settings("production", PROFILES_DIR, tmp / "data", (
        *_assignments(main_port, base_port), f"proxy.listen_port={port}",
        "proxy.server_name=matrix.test", f"proxy.tls_certificate={certificate}",
        f"proxy.tls_certificate_key={key}", f"proxy.admin_allowed_ranges={allowed}"), {})
    rendered = render(settings, tmp / "data")
    assert rendered.proxy_config is not None
    with running_nginx(tmp / "nginx", rendered.proxy_config, port):
        yield Proxy(port, certificate, found)


@pytest.fixture(scope="module")
def loopback_allowed(tmp_path_factory: pytest.TempPathFactory,
                     upstreams: tuple[Upstreams, int, int]) -> Iterator[Proxy]:
    """The proxy with the default allow-list: 127.0.0.1 and ::1 only."""
    yield from _proxy(tmp_path_factory.mktemp("allowed"), upstreams, "[127.0.0.1/32, '::1/128']")


@pytest.fixture(scope="module")
def loopback_denied(tmp_path_factory: pytest.TempPathFactory,
                    upstreams: tuple[Upstreams, int, int]) -> Iterator[Proxy]:
    """The proxy with an allow-list that leaves out every loopback address."""
    yield from _proxy(tmp_path_factory.mktemp("denied"), upstreams, "[10.0.0.0/8, 'fd00:1::/64']")


def _tls_context(proxy: Proxy) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(proxy.certificate))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(self.body)
        return loaded


def _request(proxy: Proxy, method: str, path: str, source: str = "127.0.0.1",
             headers: dict[str, str] | None = None) -> Answer:
    """One request with ``path`` sent exactly as written (no client-side normalising)."""
    host = "::1" if ":" in source else "127.0.0.1"
    connection = http.client.HTTPSConnection(host, proxy.port, context=_tls_context(proxy),
                                             source_address=(source, 0), timeout=15)
    try:
        body = b"{}" if method in ("POST", "PUT") else None
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def _upstream_kind(proxy: Proxy, answer: Answer) -> str | None:
    """Which upstream served ``answer`` (None when nginx answered by itself)."""
    if answer.headers.get_content_type() != "application/json":
        return None
    port = answer.json().get("upstream_port")
    return proxy.upstreams.kind_of(port) if isinstance(port, int) else None


def _refused_offenders(proxy: Proxy, source: str) -> list[str]:
    """Admin requests from ``source`` not refused with a Matrix 403, or seen by an upstream."""
    offenders = []
    requests = [(m, p) for p in ADMIN_PATHS for m in METHODS] + [("GET", p) for p in
                                                                   ADMIN_SPELLINGS]
    for method, path in requests:
        before = len(proxy.upstreams.seen)
        answer = _request(proxy, method, path, source)
        reached = proxy.upstreams.seen[before:]
        if (answer.status != 403 or reached
                or answer.headers.get_content_type() != "application/json"
                or answer.json().get("errcode") != "M_FORBIDDEN"):
            offenders.append(f"{method} {path} from {source}: {answer.status} "
                             f"{answer.body[:80]!r}, upstream saw {reached}")
    return offenders


def test_admin_paths_refused_outside_allowed_ranges(loopback_allowed: Proxy,
                                                    loopback_denied: Proxy) -> None:
    """Every admin path, method and spelling from an address outside the ranges gets a 403."""
    offenders = (_refused_offenders(loopback_allowed, "127.0.0.2")
                 + _refused_offenders(loopback_denied, "127.0.0.1")
                 + _refused_offenders(loopback_denied, "::1"))
    assert offenders == []


def test_admin_paths_reach_main_process_from_allowed_ranges(loopback_allowed: Proxy) -> None:
    """From an allowed address every admin path reaches Synapse's main process unchanged."""
    offenders = []
    for source in ("127.0.0.1", "::1"):
        for path in ADMIN_PATHS:
            for method in METHODS:
                answer = _request(loopback_allowed, method, path, source)
                kind = _upstream_kind(loopback_allowed, answer)
                if answer.status != 200 or kind != "main" or answer.json()["path"] != path:
                    offenders.append(f"{method} {path} from {source}: {answer.status} {kind}")
    assert offenders == []


def test_route_classes_reach_their_upstream(loopback_allowed: Proxy) -> None:
    """Client, federation and module paths reach the main process, the worker paths the
    generic workers, media the media worker; anything else (metrics, replication, files) is
    answered by the proxy itself with a Matrix 404."""
    expected = ([(route, "main") for route in MAIN_ROUTES]
                + [(route, "generic") for route in GENERIC_ROUTES]
                + [(route, "media") for route in MEDIA_ROUTES])
    offenders = []
    for (method, path), kind in expected:
        answer = _request(loopback_allowed, method, path)
        served_by = _upstream_kind(loopback_allowed, answer)
        if answer.status != 200 or served_by != kind:
            offenders.append(f"{method} {path}: {answer.status} from {served_by}, not {kind}")
    for path in UNROUTED:
        before = len(loopback_allowed.upstreams.seen)
        answer = _request(loopback_allowed, "GET", path)
        if (answer.status != 404 or loopback_allowed.upstreams.seen[before:]
                or answer.json().get("errcode") != "M_UNRECOGNIZED"):
            offenders.append(f"GET {path}: {answer.status} {answer.body[:80]!r}, expected "
                             "the proxy's own Matrix 404")
    assert offenders == []


def test_generic_worker_sticky_per_access_token(loopback_allowed: Proxy) -> None:
    """A client's /sync always goes to the same generic worker (its cache lives there)."""
    ports = set()
    for _ in range(6):
        answer = _request(loopback_allowed, "GET", "/_matrix/client/v3/sync",
                          headers={"Authorization": "Bearer token-of-one-client"})
        ports.add(answer.json()["upstream_port"])
    assert len(ports) == 1


def test_forwarded_for_set_by_proxy(loopback_allowed: Proxy) -> None:
    """A client's own X-Forwarded-For never reaches Synapse: the proxy writes the real address."""
    answer = _request(loopback_allowed, "GET", "/_matrix/client/versions", "127.0.0.2",
                      headers={"X-Forwarded-For": "10.9.9.9"})
    assert answer.json()["x_forwarded_for"] == "127.0.0.2"


def test_hsts_on_every_answer(loopback_allowed: Proxy) -> None:
    """Proxied answers, refusals and the proxy's own 404 all carry Strict-Transport-Security."""
    answers = [_request(loopback_allowed, "GET", "/_matrix/client/versions"),
               _request(loopback_allowed, "GET", "/_synapse/admin/v1/server_version",
                        "127.0.0.2"),
               _request(loopback_allowed, "GET", "/_synapse/metrics")]
    assert [a.status for a in answers] == [200, 403, 404]
    for answer in answers:
        assert "max-age=" in (answer.headers.get("Strict-Transport-Security") or "")


def _handshake(proxy: Proxy, context: ssl.SSLContext) -> tuple[str | None, str | None]:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="matrix.test") as tls:
        return tls.version(), tls.selected_alpn_protocol()


def test_tls_13_only_with_http2(loopback_allowed: Proxy) -> None:
    """A TLS 1.3 client gets HTTP/2 offered; a client that stops at TLS 1.2 is refused."""
    modern = _tls_context(loopback_allowed)
    modern.set_alpn_protocols(["h2", "http/1.1"])
    assert _handshake(loopback_allowed, modern) == ("TLSv1.3", "h2")
    old = _tls_context(loopback_allowed)
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError):
        _handshake(loopback_allowed, old)
