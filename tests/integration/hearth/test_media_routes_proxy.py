"""Every media endpoint through the real proxy (deploy/templates/nginx.conf.j2 in nginx) in both
profiles: dev (one process; SQLite and PostgreSQL) and production (workers; PostgreSQL). Each
answers as Synapse does, and the process that served it is the one running the media
repository: the media worker in production. Which process served a request is read from the
processes' access logs (``synapse.access.*`` lines), by a marker unique to the request."""

from __future__ import annotations

import hashlib
import io
import secrets
import sqlite3
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import httpx
import psycopg2
import pytest
from mautrix.api import HTTPAPI
from mautrix.client import ClientAPI
from mautrix.types import ContentURI, UserID
from PIL import Image

from hearth.render import PROFILES_DIR, plan_workers, render_proxy_config
from hearth.settings import Settings, load_settings
from hearth.synapse_admin import register_user
from tests.harness.calls import eventually, seg
from tests.harness.clamd import SessionClamd
from tests.harness.nginx import running_nginx, self_signed_certificate
from tests.harness.ports import free_port, free_port_block
from tests.harness.postgres import require_postgres_or_skip, temporary_database
from tests.harness.redis import REDIS, require_redis
from tests.harness.server import TEST_SETTINGS, Homeserver
from tests.harness.server_pool import ServerPool
from tests.harness.smtp import SmtpServer

# A production worker cluster of its own: with the other clusters, on one test process.
pytestmark = pytest.mark.cluster

MAX_UPLOAD = 8 * 1024 * 1024
# A small upload limit, so the refusal by size is cheap to provoke; URL previews on, and
# allowed to reach the test's own page on loopback.
MEDIA_SETTINGS = (
    "media.max_upload_size=8M",
    "media.url_previews=true",
    'synapse_overrides={"url_preview_ip_range_whitelist": ["127.0.0.1"]}',
)
LEGACY_VERSIONS = ("r0", "v1", "v3")
# Replication goes over the one Redis on channels named by the server name: a name of its own
# keeps this cluster apart from the pool's (tests/harness/server.py) when both run.
CLUSTER_SERVER_NAME = "media-routes.test"


@dataclass(frozen=True)
class Deployment:
    """One deployment behind a running nginx: the proxy's URL, the processes (name -> HTTP
    port, name -> log file) and the one running the media repository."""

    name: str
    url: str
    tls: ssl.SSLContext
    server: Homeserver
    settings: Settings
    ports: dict[str, int]
    logs: dict[str, Path]
    media_process: str

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.server.admin['access_token']}"}


@dataclass(frozen=True)
class Account:
    user_id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _marker() -> str:
    return f"probe{secrets.token_hex(8)}"


# --- where requests landed: the processes' access logs ------------------------------------


@dataclass
class AccessLogs:
    """The access-log lines each process of ``deployment`` wrote since this was made."""

    deployment: Deployment
    start: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.start = {name: path.stat().st_size if path.exists() else 0
                      for name, path in self.deployment.logs.items()}

    def served(self, marker: str) -> set[str]:
        """The processes with an access-log line carrying ``marker`` so far."""
        found = set()
        for name, path in self.deployment.logs.items():
            with path.open("rb") as log:
                log.seek(self.start[name])
                text = log.read().decode("utf-8", "replace")
            if any(marker in line and '"namespace":"synapse.access.' in line
                   for line in text.splitlines()):
                found.add(name)
        return found

    async def served_by(self, markers: list[str]) -> list[set[str]]:
        """For each marker, the processes that logged it; waits until each was logged
        somewhere (Synapse flushes its log every second)."""
        async def probe() -> list[set[str]]:
            return [self.served(marker) for marker in markers]

        return await eventually(probe, lambda seen: all(seen), timeout=30,
                                what=f"access-log lines with {markers}")

    async def served_by_none(self, markers: list[str]) -> list[str]:
        """The markers some process logged, asked once every process has logged a later
        request of ours, so that nothing earlier can still be unflushed."""
        sentinel = _marker()
        async with httpx.AsyncClient(timeout=30) as client:
            for port in self.deployment.ports.values():
                await client.get(f"http://127.0.0.1:{port}/_matrix/client/versions",
                                 params={"probe": sentinel})

        async def probe() -> set[str]:
            return self.served(sentinel)

        await eventually(probe, lambda seen: seen == set(self.deployment.ports), timeout=30,
                         what="every process logging the sentinel request")
        return [marker for marker in markers if self.served(marker)]


# --- the deployments ----------------------------------------------------------------------


@contextmanager
def _production_cluster(data_dir: Path, smtp_port: int, clamd_socket: Path
                        ) -> Iterator[Homeserver]:
    """The production profile with an event persister, a generic worker and a media worker,
    on PostgreSQL and Redis."""
    require_postgres_or_skip()
    require_redis()
    with temporary_database("hearth_media_routes") as database:
        port, base = free_port(), free_port_block(12)
        server = Homeserver(
            name="production-media", data_dir=data_dir, port=port, metrics_port=base + 8,
            profile="production", engine="postgres",
            settings=(*TEST_SETTINGS, *MEDIA_SETTINGS, f"server.name={CLUSTER_SERVER_NAME}",
                      f"server.public_baseurl=http://127.0.0.1:{port}/",
                      f"database.user={database.user}", f"database.name={database.name}",
                      f"database.host={database.host}", f"database.port={database.port}",
                      "database.cp_min=1", "database.cp_max=4",
                      f"redis.host={REDIS[0]}", f"redis.port={REDIS[1]}",
                      f"email.smtp_port={smtp_port}", "email.require_transport_security=false",
                      "workers.generic_workers=1", "workers.event_persisters=1",
                      "workers.federation_senders=0", "workers.media_workers=1",
                      f"workers.base_port={base}", f"workers.replication_port={base + 6}",
                      f"media.scan.clamd={clamd_socket}"))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def _behind_proxy(server: Homeserver, tmp: Path) -> Iterator[Deployment]:
    """``server`` behind nginx running the proxy config rendered from its own settings."""
    listen = free_port()
    certificate, key = self_signed_certificate(tmp / "tls", ("matrix.test", "127.0.0.1"))
    settings = load_settings(server.profile, PROFILES_DIR, None, (
        *server.settings, f"server.port={server.port}", f"metrics.port={server.metrics_port}",
        "proxy.enabled=true", f"proxy.listen_port={listen}", "proxy.server_name=matrix.test",
        f"proxy.tls_certificate={certificate}", f"proxy.tls_certificate_key={key}"), {})
    workers = plan_workers(settings, server.data_dir) if settings.has_workers else ()
    site = tmp / "hearth.conf"
    site.write_text(render_proxy_config(settings, workers))
    logs = server.data_dir / "logs"
    with running_nginx(tmp / "nginx", site, listen):
        yield Deployment(
            name=server.name, url=f"https://127.0.0.1:{listen}",
            tls=ssl.create_default_context(cafile=str(certificate)), server=server,
            settings=settings, ports={"main": server.port, **{w.name: w.port for w in workers}},
            logs={"main": logs / "homeserver.log",
                  **{w.name: logs / f"{w.name}.log" for w in workers}},
            media_process=next((w.name for w in workers if w.serves_media), "main"))


@pytest.fixture(scope="module")
def production(smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory,
               clamd: SessionClamd) -> Iterator[Deployment]:
    """The production profile with its media worker (scanning with the session's clamd),
    behind the proxy."""
    tmp = tmp_path_factory.mktemp("production")
    with _production_cluster(tmp / "data", smtp.port, clamd.socket_path) as server, \
            _behind_proxy(server, tmp) as deployment:
        yield deployment


@pytest.fixture(scope="module", params=["dev-sqlite", "dev-postgres", "production"])
def deployment(request: pytest.FixtureRequest, server_pool: ServerPool,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Each profile behind the proxy: dev on both engines, production with workers."""
    if request.param == "production":
        yield request.getfixturevalue("production")
        return
    server = server_pool.get(request.param.removeprefix("dev-"), MEDIA_SETTINGS)
    with _behind_proxy(server, tmp_path_factory.mktemp(request.param)) as running:
        yield running


@pytest.fixture(scope="module")
def preview_site() -> Iterator[str]:
    """A page with an Open Graph title naming the path it was fetched by."""
    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's name
            body = (f'<html><head><meta property="og:title" content="Hearth {self.path}">'
                    "<title>page</title></head><body>page</body></html>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{site.server_address[1]}"
    site.shutdown()
    site.server_close()


# --- clients --------------------------------------------------------------------------------


def _account(deployment: Deployment) -> Account:
    made = register_user(deployment.server.base_url, deployment.server.shared_secret,
                         f"media{secrets.token_hex(4)}")
    return Account(made.user_id, made.access_token)


@asynccontextmanager
async def _http(deployment: Deployment, source: str = "127.0.0.1"
                ) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the proxy, from ``source``."""
    transport = httpx.AsyncHTTPTransport(verify=deployment.tls, local_address=source)
    async with httpx.AsyncClient(base_url=deployment.url, transport=transport,
                                 timeout=60) as client:
        yield client


@asynccontextmanager
async def _matrix(deployment: Deployment, account: Account) -> AsyncIterator[ClientAPI]:
    """A mautrix client of ``account`` through the proxy."""
    connector = aiohttp.TCPConnector(ssl=deployment.tls)
    async with aiohttp.ClientSession(connector=connector) as session:
        api = HTTPAPI(deployment.url, account.token, client_session=session,
                      default_retry_count=0)
        yield ClientAPI(UserID(account.user_id), api=api)


def _png(size: int = 64) -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (size, size), (200, 40, 40)).save(image, "PNG")
    return image.getvalue()


async def _upload(client: httpx.AsyncClient, account: Account, data: bytes,
                  content_type: str = "application/octet-stream") -> tuple[str, str]:
    """Upload ``data``; its (server name, media ID)."""
    response = await client.post("/_matrix/media/v3/upload", content=data,
                                 headers={**account.auth, "Content-Type": content_type})
    assert response.status_code == 200, response.text
    server_name, media_id = response.json()["content_uri"].removeprefix("mxc://").split("/")
    return server_name, media_id


def _mark_unauthenticated(deployment: Deployment, media_id: str) -> None:
    """Make ``media_id`` look like media from before authenticated media was switched on,
    which Synapse still serves on the legacy unauthenticated endpoints."""
    database = deployment.settings.database
    statement = "UPDATE local_media_repository SET authenticated = {} WHERE media_id = {}"
    if database.engine == "sqlite":
        path = deployment.server.data_dir / database.sqlite_path
        with closing(sqlite3.connect(path, timeout=30)) as sqlite, sqlite:
            sqlite.execute(statement.format("?", "?"), (False, media_id))
        return
    with closing(psycopg2.connect(host=database.host, port=database.port, user=database.user,
                                  dbname=database.name)) as postgres, postgres, \
            postgres.cursor() as cursor:
        cursor.execute(statement.format("%s", "%s"), (False, media_id))


def _offenders(results: list[tuple[str, int, set[str]]], deployment: Deployment,
               status: int = 200) -> list[str]:
    return [f"{what}: {code} from {served}" for what, code, served in results
            if code != status or served != {deployment.media_process}]


# --- uploads --------------------------------------------------------------------------------


async def test_upload_every_version_served_by_media_process(deployment: Deployment) -> None:
    """POST /_matrix/media/{r0,v1,v3}/upload stores the file on the media process, and the
    bytes come back."""
    account, logs = _account(deployment), AccessLogs(deployment)
    uploaded = {version: (_marker(), secrets.token_bytes(2048)) for version in LEGACY_VERSIONS}
    async with _http(deployment) as client, _matrix(deployment, account) as matrix:
        uris = {}
        for version, (marker, data) in uploaded.items():
            if version == "v3":
                uris[version] = await matrix.upload_media(data, "application/octet-stream",
                                                          filename=marker)
                continue
            response = await client.post(f"/_matrix/media/{version}/upload",
                                         params={"filename": marker}, content=data,
                                         headers={**account.auth,
                                                  "Content-Type": "application/octet-stream"})
            assert response.status_code == 200, response.text
            uris[version] = ContentURI(response.json()["content_uri"])
        for version, (_, data) in uploaded.items():
            assert await matrix.download_media(uris[version]) == data
    served = await logs.served_by([marker for marker, _ in uploaded.values()])
    assert served == [{deployment.media_process}] * len(uploaded)


async def test_create_then_async_upload_served_by_media_process(deployment: Deployment) -> None:
    """POST /_matrix/media/v1/create and PUT /_matrix/media/v3/upload/<server>/<id> (async
    upload) are both handled by the media process; the file is then downloadable."""
    account, logs, marker = _account(deployment), AccessLogs(deployment), _marker()
    data = secrets.token_bytes(4096)
    async with _http(deployment) as client, _matrix(deployment, account) as matrix:
        created = await client.post("/_matrix/media/v1/create", params={"probe": marker},
                                    headers=account.auth)
        assert created.status_code == 200, created.text
        mxc = ContentURI(created.json()["content_uri"])
        media_id = mxc.rsplit("/", 1)[1]
        put = await client.put(f"/_matrix/media/v3/upload/{deployment.settings.server.name}/"
                               f"{media_id}", content=data,
                               headers={**account.auth,
                                        "Content-Type": "application/octet-stream"})
        assert put.status_code == 200, put.text
        assert await matrix.download_media(mxc) == data
    assert await logs.served_by([marker, f"/upload/{deployment.settings.server.name}/{media_id}"]
                                ) == [{deployment.media_process}] * 2


async def test_upload_at_the_limit_streams_to_media_process(deployment: Deployment) -> None:
    """An upload of exactly media.max_upload_size passes the proxy whole (streamed, not
    buffered) and is stored byte for byte."""
    account, logs, marker = _account(deployment), AccessLogs(deployment), _marker()
    data = secrets.token_bytes(MAX_UPLOAD)
    async with _http(deployment) as client:
        response = await client.post("/_matrix/media/v3/upload", params={"filename": marker},
                                     content=data,
                                     headers={**account.auth,
                                              "Content-Type": "application/octet-stream"})
        assert response.status_code == 200, response.text
        media_id = response.json()["content_uri"].rsplit("/", 1)[1]
        listed = await client.get(f"/_synapse/admin/v1/users/{seg(account.user_id)}/media",
                                  headers=deployment.admin)
    stored = next(m for m in listed.json()["media"] if m["media_id"] == media_id)
    assert (stored["media_length"], stored["sha256"]) == (MAX_UPLOAD,
                                                          hashlib.sha256(data).hexdigest())
    assert await logs.served_by([marker]) == [{deployment.media_process}]


async def test_upload_over_the_limit_refused_by_proxy(deployment: Deployment) -> None:
    """One byte over media.max_upload_size: a Matrix 413 M_TOO_LARGE from the proxy, and no
    Synapse process sees the request."""
    account, logs, marker = _account(deployment), AccessLogs(deployment), _marker()
    async with _http(deployment) as client:
        response = await client.post("/_matrix/media/v3/upload", params={"filename": marker},
                                     content=b"x" * (MAX_UPLOAD + 1),
                                     headers={**account.auth, "Content-Type": "text/plain"})
    assert response.status_code == 413
    assert response.json()["errcode"] == "M_TOO_LARGE"
    assert await logs.served_by_none([marker]) == []


# --- authenticated downloads (/_matrix/client/v1/media) -------------------------------------


async def test_authenticated_download_served_by_media_process(deployment: Deployment) -> None:
    """GET /_matrix/client/v1/media/download/<server>/<id>, with and without a file name,
    returns the bytes from the media process."""
    account, logs = _account(deployment), AccessLogs(deployment)
    data = secrets.token_bytes(3000)
    async with _http(deployment) as client, _matrix(deployment, account) as matrix:
        server_name, media_id = await _upload(client, account, data)
        assert await matrix.download_media(ContentURI(f"mxc://{server_name}/{media_id}")) == data
        named = await client.get(f"/_matrix/client/v1/media/download/{server_name}/{media_id}/"
                                 "report.bin", headers=account.auth)
    assert named.status_code == 200 and named.content == data
    assert "report.bin" in named.headers["content-disposition"]
    assert await logs.served_by([f"/download/{server_name}/{media_id}?allow_redirect",
                                 f"/download/{server_name}/{media_id}/report.bin"]
                                ) == [{deployment.media_process}] * 2


async def test_authenticated_thumbnail_served_by_media_process(deployment: Deployment) -> None:
    """GET /_matrix/client/v1/media/thumbnail/<server>/<id> returns a thumbnail image from
    the media process."""
    account, logs = _account(deployment), AccessLogs(deployment)
    async with _http(deployment) as client, _matrix(deployment, account) as matrix:
        server_name, media_id = await _upload(client, account, _png(), "image/png")
        thumbnail = await matrix.download_thumbnail(
            ContentURI(f"mxc://{server_name}/{media_id}"), 32, 32, "crop")
    assert thumbnail[:8] == b"\x89PNG\r\n\x1a\n" or thumbnail[:3] == b"\xff\xd8\xff"
    assert await logs.served_by([f"/thumbnail/{server_name}/{media_id}"]
                                ) == [{deployment.media_process}]


async def test_authenticated_config_served_by_media_process(deployment: Deployment) -> None:
    """GET /_matrix/client/v1/media/config gives the upload limit, from the media process."""
    account, logs, marker = _account(deployment), AccessLogs(deployment), _marker()
    async with _http(deployment) as client:
        response = await client.get("/_matrix/client/v1/media/config",
                                    params={"probe": marker}, headers=account.auth)
    assert response.status_code == 200
    assert response.json()["m.upload.size"] == MAX_UPLOAD
    assert await logs.served_by([marker]) == [{deployment.media_process}]


async def test_authenticated_preview_served_by_media_process(deployment: Deployment,
                                                             preview_site: str) -> None:
    """GET /_matrix/client/v1/media/preview_url gives the page's Open Graph data, fetched by
    the media process."""
    account, logs, marker = _account(deployment), AccessLogs(deployment), _marker()
    async with _http(deployment) as client:
        response = await client.get("/_matrix/client/v1/media/preview_url",
                                    params={"url": f"{preview_site}/page/{marker}"},
                                    headers=account.auth)
    assert response.status_code == 200, response.text
    assert response.json()["og:title"] == f"Hearth /page/{marker}"
    assert await logs.served_by([marker]) == [{deployment.media_process}]


# --- the legacy endpoints (/_matrix/media/{r0,v1,v3}) ---------------------------------------


async def test_legacy_download_every_version_served_by_media_process(
        deployment: Deployment) -> None:
    """GET /_matrix/media/{r0,v1,v3}/download/<server>/<id>[/<name>], unauthenticated, serves
    media from before authenticated media, from the media process."""
    account, logs = _account(deployment), AccessLogs(deployment)
    data = secrets.token_bytes(1500)
    results = []
    async with _http(deployment) as client:
        server_name, media_id = await _upload(client, account, data)
        _mark_unauthenticated(deployment, media_id)
        paths = [f"/_matrix/media/{version}/download/{server_name}/{media_id}{suffix}"
                 for version in LEGACY_VERSIONS for suffix in ("", "/old.bin")]
        for path in paths:
            response = await client.get(path)
            results.append((path, response.status_code, response.content == data))
    assert [r for r in results if r[1:] != (200, True)] == []
    served = await logs.served_by([f"{path} " for path in paths])
    assert served == [{deployment.media_process}] * len(paths)


async def test_legacy_download_refuses_authenticated_media(deployment: Deployment) -> None:
    """Media uploaded with authenticated media on is not on the legacy endpoints: the media
    process answers 404 M_NOT_FOUND, as Synapse does."""
    account, logs = _account(deployment), AccessLogs(deployment)
    async with _http(deployment) as client:
        server_name, media_id = await _upload(client, account, b"new media")
        paths = [f"/_matrix/media/{version}/download/{server_name}/{media_id}"
                 for version in LEGACY_VERSIONS]
        answers = [await client.get(path) for path in paths]
    assert [(a.status_code, a.json()["errcode"]) for a in answers] == [(404, "M_NOT_FOUND")] * 3
    assert await logs.served_by(paths) == [{deployment.media_process}] * 3


async def test_legacy_thumbnail_every_version_served_by_media_process(
        deployment: Deployment) -> None:
    """GET /_matrix/media/{r0,v1,v3}/thumbnail/<server>/<id> serves a thumbnail of media from
    before authenticated media, from the media process."""
    account, logs = _account(deployment), AccessLogs(deployment)
    async with _http(deployment) as client:
        server_name, media_id = await _upload(client, account, _png(), "image/png")
        _mark_unauthenticated(deployment, media_id)
        paths = [f"/_matrix/media/{version}/thumbnail/{server_name}/{media_id}"
                 for version in LEGACY_VERSIONS]
        answers = [await client.get(path, params={"width": 32, "height": 32, "method": "crop"})
                   for path in paths]
    assert [a.status_code for a in answers] == [200] * 3
    assert all(a.headers["content-type"] in ("image/png", "image/jpeg") for a in answers)
    assert await logs.served_by(paths) == [{deployment.media_process}] * 3


async def test_legacy_config_every_version_served_by_media_process(
        deployment: Deployment) -> None:
    """GET /_matrix/media/{r0,v1,v3}/config gives the upload limit, from the media process."""
    account, logs = _account(deployment), AccessLogs(deployment)
    markers = {version: _marker() for version in LEGACY_VERSIONS}
    async with _http(deployment) as client:
        answers = [await client.get(f"/_matrix/media/{version}/config",
                                    params={"probe": marker}, headers=account.auth)
                   for version, marker in markers.items()]
    assert [(a.status_code, a.json().get("m.upload.size")) for a in answers] == [
        (200, MAX_UPLOAD)] * 3
    assert await logs.served_by(list(markers.values())) == [{deployment.media_process}] * 3


async def test_legacy_preview_every_version_served_by_media_process(
        deployment: Deployment, preview_site: str) -> None:
    """GET /_matrix/media/{r0,v1,v3}/preview_url gives the page's Open Graph data, fetched
    by the media process."""
    account, logs = _account(deployment), AccessLogs(deployment)
    markers = {version: _marker() for version in LEGACY_VERSIONS}
    async with _http(deployment) as client:
        answers = [await client.get(f"/_matrix/media/{version}/preview_url",
                                    params={"url": f"{preview_site}/page/{marker}"},
                                    headers=account.auth)
                   for version, marker in markers.items()]
    assert [(a.status_code, a.json().get("og:title")) for a in answers] == [
        (200, f"Hearth /page/{marker}") for marker in markers.values()]
    assert await logs.served_by(list(markers.values())) == [{deployment.media_process}] * 3


# --- the admin APIs for media ---------------------------------------------------------------


async def _admin_calls(deployment: Deployment, calls: list[tuple[str, str]]
                       ) -> list[tuple[str, int, set[str]]]:
    """Make each admin (method, path) call through the proxy: what it answered and which
    process served it."""
    logs, markers, answers = AccessLogs(deployment), [], []
    async with _http(deployment) as client:
        for method, target in calls:
            markers.append(_marker())
            path, _, query = target.partition("?")
            response = await client.request(method, path, headers=deployment.admin, json={},
                                            params={**dict(parse_qsl(query)),
                                                    "probe": markers[-1]})
            answers.append(response.status_code)
    served = await logs.served_by(markers)
    return [(f"{method} {path}", code, where)
            for (method, path), code, where in zip(calls, answers, served, strict=True)]


async def _media_and_room(deployment: Deployment) -> tuple[Account, str, str, str]:
    """A user with one uploaded file and a room: (account, server name, media ID, room)."""
    account = _account(deployment)
    async with _http(deployment) as client:
        server_name, media_id = await _upload(client, account, secrets.token_bytes(512))
        room = await client.post("/_matrix/client/v3/createRoom", json={},
                                 headers=account.auth)
    assert room.status_code == 200, room.text
    return account, server_name, media_id, seg(room.json()["room_id"])


async def test_media_admin_queries_served_by_media_process(deployment: Deployment) -> None:
    """The media admin APIs that read (one file, a user's files, a room's files) answer from
    the media process."""
    account, server_name, media_id, room = await _media_and_room(deployment)
    user = seg(account.user_id)
    results = await _admin_calls(deployment, [
        ("GET", f"/_synapse/admin/v1/media/{server_name}/{media_id}"),
        ("GET", f"/_synapse/admin/v1/users/{user}/media"),
        ("GET", f"/_synapse/admin/v1/room/{room}/media"),
    ])
    assert _offenders(results, deployment) == []


async def test_media_admin_changes_served_by_media_process(deployment: Deployment) -> None:
    """The media admin APIs that change things (protect, purge the remote cache, delete by
    date, by ID and per user) answer from the media process."""
    account, server_name, media_id, _ = await _media_and_room(deployment)
    results = await _admin_calls(deployment, [
        ("POST", f"/_synapse/admin/v1/media/protect/{media_id}"),
        ("POST", f"/_synapse/admin/v1/media/unprotect/{media_id}"),
        ("POST", "/_synapse/admin/v1/purge_media_cache?before_ts=30000000001"),
        ("POST", "/_synapse/admin/v1/media/delete?before_ts=30000000001"),
        ("POST", f"/_synapse/admin/v1/media/{server_name}/delete?before_ts=30000000001"),
        ("DELETE", f"/_synapse/admin/v1/media/{server_name}/{media_id}"),
        ("DELETE", f"/_synapse/admin/v1/users/{seg(account.user_id)}/media"),
    ])
    assert _offenders(results, deployment) == []


async def test_media_admin_quarantine_served_by_media_process(deployment: Deployment) -> None:
    """Quarantining (one file, a room's, a user's), lifting it and listing the changes
    answer from the media process."""
    account, server_name, media_id, room = await _media_and_room(deployment)
    results = await _admin_calls(deployment, [
        ("POST", f"/_synapse/admin/v1/media/quarantine/{server_name}/{media_id}"),
        ("POST", f"/_synapse/admin/v1/media/unquarantine/{server_name}/{media_id}"),
        ("POST", f"/_synapse/admin/v1/room/{room}/media/quarantine"),
        ("POST", f"/_synapse/admin/v1/quarantine_media/{room}"),
        ("POST", f"/_synapse/admin/v1/user/{seg(account.user_id)}/media/quarantine"),
        ("GET", "/_synapse/admin/v1/media/quarantine_changes"),
    ])
    assert _offenders(results, deployment) == []


async def test_media_admin_refused_outside_allowed_ranges(deployment: Deployment) -> None:
    """From an address outside proxy.admin_allowed_ranges every media admin path (Synapse's
    and this project's) gets the proxy's Matrix 403, and no Synapse process sees it."""
    logs = AccessLogs(deployment)
    paths = ["/_synapse/admin/v1/media/localhost/abc", "/_synapse/admin/v1/users/@a:b/media",
             "/_synapse/admin/v1/room/!r:b/media", "/_synapse/admin/v1/purge_media_cache",
             "/_synapse/admin/v1/quarantine_media/!r:b", "/_synapse/admin/v1/user/@a:b/media/x",
             "/_synapse/admin/v1/media/quarantine/localhost/abc",
             "/_synapse/client/hearth/v1/admin/media/usage",
             "/_synapse/client/hearth/v1/media/admin/usage",
             "/_synapse/client/hearth/v1/media//admin/stats",
             "/_synapse/client/hearth/v1/media/%61dmin/stats"]
    markers, answers = [], []
    async with _http(deployment, source="127.0.0.2") as client:
        for path in paths:
            markers.append(_marker())
            answers.append(await client.post(path, params={"probe": markers[-1]}, json={},
                                             headers=deployment.admin))
    assert [(a.status_code, a.json()["errcode"]) for a in answers] == [
        (403, "M_FORBIDDEN")] * len(paths)
    assert await logs.served_by_none(markers) == []


# --- this project's media endpoints ---------------------------------------------------------


async def test_hearth_media_endpoints_reach_media_process(deployment: Deployment) -> None:
    """/_synapse/client/hearth/v1/media/* (and its admin parts, from an allowed address) go
    to the process running the media repository."""
    account, logs = _account(deployment), AccessLogs(deployment)
    markers = [_marker() for _ in range(3)]
    async with _http(deployment) as client:
        await client.get(f"/_synapse/client/hearth/v1/media/info/{markers[0]}",
                         headers=account.auth)
        await client.get("/_synapse/client/hearth/v1/media/admin/stats",
                         params={"probe": markers[1]}, headers=deployment.admin)
        await client.get(f"/_synapse/client/hearth/v1/admin/media/{markers[2]}",
                         headers=deployment.admin)
    assert await logs.served_by(markers) == [{deployment.media_process}] * 3


# --- production: the media worker and nobody else -------------------------------------------


async def test_only_the_media_worker_serves_media(production: Deployment) -> None:
    """In production the main process and the generic worker refuse media requests sent
    to them directly (the shared config turns the media repository off); the media worker
    serves them."""
    account = _account(production)
    answers: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=30, headers=account.auth) as client:
        for name, port in production.ports.items():
            if name.startswith("event_persister"):
                continue  # its listener carries replication only
            upload = await client.post(f"http://127.0.0.1:{port}/_matrix/media/v3/upload",
                                       content=b"direct", headers={"Content-Type": "text/plain"})
            config = await client.get(f"http://127.0.0.1:{port}/_matrix/client/v1/media/config")
            answers[name] = (upload.status_code, config.status_code)
    assert answers == {"main": (404, 404), "generic1": (404, 404),
                       production.media_process: (200, 200)}
