"""Everything in the data directory is private to the service account, whatever the umask
`hearth run` starts under and whatever an older run left behind: database, logs, media,
secrets, rendered configs (the database and logs hold access tokens and password hashes)."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import httpx
import pytest
from PIL import Image

from hearth.synapse_admin import register_user
from tests.harness.file_modes import assert_private
from tests.harness.postgres import database_for
from tests.harness.server import Homeserver, make_homeserver
from tests.harness.server_pool import ServerPool

# The production worker cluster: its tests share one test process (tests/conftest.py).
pytestmark = pytest.mark.cluster


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 96), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def use_server(base_url: str, shared_secret: str) -> None:
    """What a person does on day one: register, log in, upload a picture, send a message."""
    name = f"umask{uuid.uuid4().hex[:6]}"
    account = register_user(base_url, shared_secret, name)
    with httpx.Client(base_url=base_url, timeout=30) as http:
        login = http.post("/_matrix/client/v3/login", json={
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": name},
            "password": account.password})
        assert login.status_code == 200, login.text
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        upload = http.post("/_matrix/media/v3/upload", content=_png(),
                           headers={"Content-Type": "image/png"},
                           params={"filename": "picture.png"})
        assert upload.status_code == 200, upload.text
        room = http.post("/_matrix/client/v3/createRoom", json={}).json()["room_id"]
        sent = http.put(f"/_matrix/client/v3/rooms/{room}/send/m.room.message/t1",
                        json={"msgtype": "m.image", "body": "picture.png",
                              "url": upload.json()["content_uri"]})
        assert sent.status_code == 200, sent.text


def leave_older_run_files(data_dir: Path, engine: str) -> None:
    """Files as a run of an older version left them: created under umask 0022."""
    old = [data_dir / "logs" / "homeserver.log",
           data_dir / "media_store" / "local_content" / "ol" / "dr" / "unfile"]
    if engine == "sqlite":
        old.append(data_dir / "homeserver.db")  # empty: Synapse creates the schema in it
    for path in old:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    for path in [data_dir, *data_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _started_under(server: Homeserver, umask: int) -> None:
    previous = os.umask(umask)  # `hearth run` inherits it, as from an operator's shell
    try:
        server.start()
    finally:
        os.umask(previous)


@pytest.mark.parametrize("umask", [0o022, 0o002], ids=["umask022", "umask002"])
@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_data_dir_private_after_use(tmp_path: Path, smtp_port: int, engine: str,
                                    umask: int) -> None:
    """After a day-one session under a loose umask, nothing in the data dir is open to others."""
    data_dir = tmp_path / "data"
    with database_for(engine) as database:
        server = make_homeserver(engine, data_dir, smtp_port, database)
        leave_older_run_files(data_dir, engine)
        _started_under(server, umask)
        try:
            use_server(server.base_url, server.shared_secret)
            assert (data_dir / "media_store").is_dir()
            if engine == "sqlite":
                assert (data_dir / "homeserver.db-wal").is_file()
            assert_private(data_dir)
        finally:
            server.stop()
        assert_private(data_dir)


def test_production_worker_files_private(server_pool: ServerPool) -> None:
    """The production profile's main process and workers keep their files private too."""
    cluster = server_pool.workers()
    use_server(cluster.server.base_url, cluster.server.shared_secret)
    assert (cluster.server.data_dir / "workers").is_dir()
    assert_private(cluster.server.data_dir)
