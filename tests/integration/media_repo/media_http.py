"""HTTP helpers the media integration tests share: upload, download, thumbnail, info."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.harness.calls import seg
from tests.harness.clients import User
from tests.harness.server import Homeserver

INFO = "/_synapse/client/hearth/v1/media"


def auth(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.client.api.token}"}


@dataclass(frozen=True)
class Mxc:
    server: str
    media_id: str

    @staticmethod
    def parse(uri: str) -> Mxc:
        server, media_id = uri.removeprefix("mxc://").split("/")
        return Mxc(server, media_id)

    @property
    def path(self) -> str:
        return f"{seg(self.server)}/{seg(self.media_id)}"


async def upload(http: httpx.AsyncClient, server: Homeserver, user: User, data: bytes,
                 content_type: str | None, filename: str = "file") -> httpx.Response:
    headers = auth(user)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return await http.post(f"{server.base_url}/_matrix/media/v3/upload",
                           params={"filename": filename}, content=data, headers=headers)


async def uploaded(http: httpx.AsyncClient, server: Homeserver, user: User, data: bytes,
                   content_type: str | None, filename: str = "file") -> Mxc:
    response = await upload(http, server, user, data, content_type, filename)
    assert response.status_code == 200, response.text
    return Mxc.parse(response.json()["content_uri"])


async def download(http: httpx.AsyncClient, server: Homeserver, user: User, mxc: Mxc,
                   **headers: str) -> httpx.Response:
    return await http.get(f"{server.base_url}/_matrix/client/v1/media/download/{mxc.path}",
                          headers={**auth(user), **headers})


async def thumbnail(http: httpx.AsyncClient, server: Homeserver, user: User, mxc: Mxc,
                    width: int, height: int, method: str = "scale",
                    **headers: str) -> httpx.Response:
    return await http.get(f"{server.base_url}/_matrix/client/v1/media/thumbnail/{mxc.path}",
                          params={"width": width, "height": height, "method": method},
                          headers={**auth(user), **headers})


async def info(http: httpx.AsyncClient, server: Homeserver, user: User | None,
               mxc: Mxc) -> httpx.Response:
    return await http.get(f"{server.base_url}{INFO}/info/{mxc.path}",
                          headers=auth(user) if user else {})


def refusal(response: httpx.Response, status: int, errcode: str) -> str:
    """The error text of a refused request, after checking its status and errcode."""
    assert response.status_code == status, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert body["errcode"] == errcode, body
    assert isinstance(body["error"], str) and body["error"]
    return str(body["error"])
