"""What the media scenarios do and read: upload, timed downloads that follow a redirect by
hand, the pipeline's Prometheus histograms, the servers' CPU, bytes on disk and in a bucket."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yarl

from bench import procs
from bench.matrix import Client, Endpoint, MatrixError

UPLOAD_PATH = "/_matrix/media/v3/upload"
DOWNLOAD_PATH = "/_matrix/client/v1/media/download/"
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Bucket:
    """The S3 bucket of a server with object storage, read with boto3."""

    name: str
    client: Any  # a boto3 S3 client

    def stored_bytes(self) -> int:
        """The bytes of every object in the bucket now (a listing, as an operator would)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sum(int(item["Size"]) for page in pages for item in page.get("Contents", ()))


@dataclass
class MediaEndpoint(Endpoint):
    """An ``Endpoint`` with what the media scenarios read about the server behind it."""

    metrics_url: str | None = None  # ours: Synapse's Prometheus endpoint
    media_store: Path | None = None  # Synapse's media_store directory
    bucket: Bucket | None = None  # with object storage
    server_roots: tuple[int, ...] = ()  # the server's processes (trees)
    store_roots: tuple[int, ...] = ()  # the S3 stand-in and the edge (trees)
    files_dir: Path = field(default_factory=Path)  # where large samples are made


def media_endpoint(endpoint: Endpoint) -> MediaEndpoint:
    """``endpoint`` as the media suite made it."""
    if not isinstance(endpoint, MediaEndpoint):
        raise TypeError(f"{endpoint.name}: the media scenarios need a MediaEndpoint")
    return endpoint


def _auth(client: Client) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.token}"}


async def upload(client: Client, data: bytes, content_type: str) -> str:
    """``POST /_matrix/media/v3/upload``; the media's ``<server>/<media_id>``."""
    async with client.endpoint.session.post(
        client.endpoint.base_url + UPLOAD_PATH, data=data,
        headers={**_auth(client), "Content-Type": content_type},
    ) as response:
        payload: dict[str, Any] = await response.json(content_type=None)
        if response.status >= 400:
            raise MatrixError(response.status, payload)
    return str(payload["content_uri"]).removeprefix("mxc://")


@dataclass(frozen=True)
class Fetched:
    """One timed GET: times from the start of the whole download, in milliseconds."""

    status: int
    first_ms: float  # the response's status line and headers are in
    complete_ms: float  # the whole body is in
    size: int
    headers: dict[str, str]


async def _get(session: aiohttp.ClientSession, url: str | yarl.URL, headers: dict[str, str],
               started: float) -> Fetched:
    async with session.get(url, headers=headers, allow_redirects=False) as response:
        first = time.perf_counter()
        body = await response.read()
        done = time.perf_counter()
        if response.status >= 400:
            raise RuntimeError(f"GET {str(url)[:120]} answered {response.status}: {body[:200]!r}")
        return Fetched(response.status, (first - started) * 1000, (done - started) * 1000,
                       len(body), {k.lower(): v for k, v in response.headers.items()})


async def download(client: Client, media: str, redirect: bool) -> Fetched:
    """``GET /_matrix/client/v1/media/download/<media>``, with ``allow_redirect=true`` when
    ``redirect``; a redirect is not followed."""
    query = "?allow_redirect=true" if redirect else ""
    url = f"{client.endpoint.base_url}{DOWNLOAD_PATH}{media}{query}"
    return await _get(client.endpoint.session, url, _auth(client), time.perf_counter())


async def download_followed(client: Client, media: str) -> tuple[Fetched, Fetched]:
    """The ``307`` of an ``allow_redirect=true`` download, then its ``Location`` fetched as a
    client would (no token: the URL is the credential); both timed from the first request."""
    started = time.perf_counter()
    url = f"{client.endpoint.base_url}{DOWNLOAD_PATH}{media}?allow_redirect=true"
    redirect = await _get(client.endpoint.session, url, _auth(client), started)
    location = redirect.headers.get("location")
    if redirect.status != 307 or location is None:
        raise RuntimeError(f"expected a 307 with a Location, got {redirect.status}")
    # Sent exactly as signed: re-quoting would change what the signature covers.
    target = await _get(client.endpoint.session, yarl.URL(location, encoded=True), {}, started)
    return redirect, target


_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?P<labels>[^}]*)\})? (?P<value>\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


async def metric_values(endpoint: MediaEndpoint, name: str,
                        labels: dict[str, str]) -> float:
    """The sum of the series ``name`` whose labels include ``labels`` (0 when none)."""
    if endpoint.metrics_url is None:
        raise RuntimeError(f"{endpoint.name} has no metrics endpoint")
    async with endpoint.session.get(endpoint.metrics_url) as response:
        text = await response.text()
    total = 0.0
    for line in text.splitlines():
        found = _SAMPLE.match(line)
        if found is None or found["name"] != name:
            continue
        have = dict(_LABEL.findall(found["labels"] or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(found["value"])
    return total


async def processing_total(endpoint: MediaEndpoint, kind: str) -> tuple[float, float]:
    """(sum of seconds, count) of ``hearth_media_processing_seconds{kind=...}`` now."""
    labels = {"kind": kind}
    return (await metric_values(endpoint, "hearth_media_processing_seconds_sum", labels),
            await metric_values(endpoint, "hearth_media_processing_seconds_count", labels))


class CpuMeter:
    """CPU seconds used by the process trees under ``roots`` between ``start`` and ``stop``
    (children a process reaped count with it, so the pipeline's sandboxed workers count with
    Synapse)."""

    def __init__(self, roots: Collection[int]) -> None:
        self._roots = roots
        self._before: dict[tuple[int, int], int] = {}

    def _ticks(self) -> dict[tuple[int, int], int]:
        return {(p.pid, p.started_at): p.cpu_ticks for p in procs.tree(self._roots)}

    def start(self) -> None:
        self._before = self._ticks()

    def stop(self) -> float:
        after = self._ticks()
        return sum(ticks - self._before.get(key, 0) for key, ticks in after.items()) / CLK_TCK


def directory_bytes(root: Path | None) -> int:
    """The bytes of the files under ``root`` (0 when there is none)."""
    if root is None or not root.is_dir():
        return 0
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
