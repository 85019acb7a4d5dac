"""The media edge (deploy/templates/media-edge.conf.j2) in a real nginx in front of an
S3-compatible server: signed URLs from media_repo/edge_signing.py serve the object, anything
altered or expired is refused with a Matrix error, ranges, the cache keyed by object, and
nothing outside the bucket's prefix."""

from __future__ import annotations

import http.client
import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hearth.media_repo.edge_signing import edge_path, sign, signature, verify
from hearth.private_files import write_private
from hearth.render import render_media_edge_config
from tests.harness.nginx import running_nginx
from tests.harness.ports import free_port
from tests.harness.s3 import SessionS3

PREFIX = "hearth/"
SLICE = 1024 * 1024
PICTURE = secrets.token_bytes(3 * SLICE + 12345)  # more than three of the edge's slices
OUTSIDE = b"outside the prefix: never through the edge"
SECRET = secrets.token_urlsafe(48)


@dataclass(frozen=True)
class Edge:
    """A running edge, the bucket behind it and the keys stored there (under the prefix)."""

    url: str
    port: int
    bucket: str
    secret: bytes

    def signed(self, key: str, lifetime_s: int = 300) -> str:
        return sign(self.url, edge_path(key), self.secret, int(time.time()) + lifetime_s)


def _public_bucket(s3: SessionS3) -> str:
    """A bucket anyone may read whole: only the edge keeps requests inside the prefix."""
    bucket = s3.bucket("edge")
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    client = s3.client()
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    client.put_object(Bucket=bucket, Key=f"{PREFIX}blobs/ab/picture", Body=PICTURE,
                      ContentType="image/png", ContentDisposition='inline; filename="p.png"')
    client.put_object(Bucket=bucket, Key=f"{PREFIX}blobs/00/empty", Body=b"",
                      ContentType="text/plain")
    client.put_object(Bucket=bucket, Key="private/secret", Body=OUTSIDE)
    for group in ("object", "cached"):
        for index in range(10):
            client.put_object(Bucket=bucket, Key=f"{PREFIX}blobs/10/{group}{index}",
                              Body=secrets.token_bytes(100 * 1024), ContentType="image/jpeg")
    return bucket


@contextmanager
def _start_edge(endpoint: str, bucket: str) -> Iterator[Edge]:
    # Not under pytest's 0700 temporary directories: run as root, nginx's workers run as
    # nobody and must reach the cache directory (nginx hands it to them).
    directory = Path(tempfile.mkdtemp(prefix="hearth-edge-"))
    directory.chmod(0o755)
    try:
        with _running_edge(directory, endpoint, bucket) as edge:
            yield edge
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def _running_edge(directory: Path, endpoint: str, bucket: str) -> Iterator[Edge]:
    port = free_port()
    secret_file = directory / "media_url_key"
    write_private(secret_file, SECRET + "\n")
    site = directory / "media-edge.conf"
    write_private(site, render_media_edge_config(port, endpoint, bucket, directory / "cache",
                                                 secret_file=secret_file, prefix=PREFIX))
    with running_nginx(directory / "nginx", site, port):
        yield Edge(f"http://127.0.0.1:{port}", port, bucket, SECRET.encode())


@pytest.fixture(scope="module")
def edge(s3_server: SessionS3) -> Iterator[Edge]:
    """The edge in front of the session's S3 server, with a public bucket behind it."""
    with _start_edge(s3_server.endpoint_url, _public_bucket(s3_server)) as running:
        yield running


def _raw_get(edge: Edge, target: str) -> tuple[int, bytes]:
    """GET ``target`` sent exactly as written (no client-side normalising of the path)."""
    connection = http.client.HTTPConnection("127.0.0.1", edge.port, timeout=30)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _matrix_error(response: httpx.Response, status: int, errcode: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errcode"] == errcode
    assert response.headers["cache-control"] == "no-store"


def test_signed_url_serves_object(edge: Edge) -> None:
    """A valid signature gets the object's bytes, with its Content-Type and
    Content-Disposition, nosniff, a sandboxing CSP and client caching."""
    response = httpx.get(edge.signed("blobs/ab/picture"), timeout=30)
    assert response.status_code == 200
    assert response.content == PICTURE
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == 'inline; filename="p.png"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
    assert response.headers["cache-control"] == "private, max-age=86400, immutable"
    assert not [name for name in response.headers if name.startswith("x-amz")]


def test_altered_path_refused(edge: Edge) -> None:
    """A signature for one object does not open another."""
    url = edge.signed("blobs/10/object1").replace("object1", "object2")
    _matrix_error(httpx.get(url), 403, "M_FORBIDDEN")


def test_altered_md5_refused(edge: Edge) -> None:
    """A changed character of the signature is refused."""
    url = edge.signed("blobs/10/object1")
    md5 = url.split("md5=")[1].split("&")[0]
    changed = md5[:-1] + ("A" if md5[-1] != "A" else "B")
    _matrix_error(httpx.get(url.replace(md5, changed)), 403, "M_FORBIDDEN")


def test_altered_expires_refused(edge: Edge) -> None:
    """Pushing the expiry further out breaks the signature."""
    url = edge.signed("blobs/10/object1")
    expires = url.split("expires=")[1]
    _matrix_error(httpx.get(url.replace(f"expires={expires}", f"expires={int(expires) + 3600}")),
                  403, "M_FORBIDDEN")


def test_missing_signature_refused(edge: Edge) -> None:
    """No md5/expires at all, or only one of them, is refused."""
    url = edge.signed("blobs/10/object1")
    for bare in (url.split("?")[0], url.split("&")[0], url.split("?")[0] + "?" + url.split("&")[1]):
        _matrix_error(httpx.get(bare), 403, "M_FORBIDDEN")


def test_expired_signature_refused_as_gone(edge: Edge) -> None:
    """A correctly signed URL whose time has passed answers 410."""
    _matrix_error(httpx.get(edge.signed("blobs/10/object1", lifetime_s=-5)), 410, "M_FORBIDDEN")


def test_edge_agrees_with_verify(edge: Edge) -> None:
    """For valid, altered and expired links, the edge serves exactly what verify() accepts."""
    path, now = edge_path("blobs/10/object3"), int(time.time())
    good = signature(path, edge.secret, now + 300)
    cases = [(path, good, now + 300), (path, good, now + 301), (path, good[:-2], now + 300),
             (path, good + "==", now + 300), (path, signature(path, edge.secret, now - 60),
                                               now - 60),
             (edge_path("blobs/10/object4"), good, now + 300),
             (path, signature(path, b"another secret", now + 300), now + 300)]
    for case_path, md5, expires in cases:
        response = httpx.get(f"{edge.url}{case_path}?md5={md5}&expires={expires}")
        assert (response.status_code == 200) == verify(case_path, md5, expires, edge.secret,
                                                       int(time.time())), (md5, expires)


def test_range_returns_the_slice(edge: Edge) -> None:
    """Range requests answer 206 with exactly the bytes asked for, within one cached slice,
    across a slice boundary and at the end."""
    url = edge.signed("blobs/ab/picture")
    for first, last in ((10, 20), (SLICE - 5, SLICE + 5), (len(PICTURE) - 7, len(PICTURE) - 1)):
        response = httpx.get(url, headers={"Range": f"bytes={first}-{last}"}, timeout=30)
        assert response.status_code == 206
        assert response.content == PICTURE[first:last + 1]
        assert response.headers["content-range"] == f"bytes {first}-{last}/{len(PICTURE)}"


def test_empty_object_served(edge: Edge) -> None:
    """An empty object (no slice covers it) is served whole: 200 with no bytes."""
    for _ in range(2):
        response = httpx.get(edge.signed("blobs/00/empty"))
        assert (response.status_code, response.content) == (200, b"")


def test_repeated_downloads_hit_cache_whatever_signature(edge: Edge) -> None:
    """100 downloads of 10 objects, each with a signature of its own: only each object's
    first download reaches the store, the other 90 are cache hits."""
    rounds = []
    for round_number in range(10):
        statuses = []
        for index in range(10):
            response = httpx.get(edge.signed(f"blobs/10/cached{index}",
                                             lifetime_s=300 + round_number))
            assert response.status_code == 200
            statuses.append(response.headers["x-cache-status"])
        rounds.append(statuses)
    hits = sum(statuses.count("HIT") for statuses in rounds)
    print(f"edge cache: {hits} hits of 100 downloads of 10 objects (hit ratio {hits / 100:.2f})")
    assert rounds[0] == ["MISS"] * 10
    assert rounds[1:] == [["HIT"] * 10] * 9


def test_nothing_outside_the_prefix(edge: Edge) -> None:
    """Paths that leave /media-edge/ (however spelt, even validly signed for what nginx
    sees) and keys outside the prefix or in another bucket serve nothing."""
    expires = int(time.time()) + 300
    attempts = {  # what is sent -> the normalised path nginx checks the signature against
        "/media-edge/../private/secret": "/private/secret",
        "/media-edge/%2e%2e/private/secret": "/private/secret",
        "/media-edge/..%2fprivate/secret": "/private/secret",
        f"/media-edge/../../{edge.bucket}/private/secret": None,
        "/private/secret": "/private/secret",
        f"/{edge.bucket}/private/secret": f"/{edge.bucket}/private/secret",
        "/media-edge/": "/media-edge/",
        "/media-edge/blobs/ab/%00picture": None,
    }
    for sent, seen in attempts.items():
        md5 = signature(seen, edge.secret, expires) if seen else "x"
        status, body = _raw_get(edge, f"{sent}?md5={md5}&expires={expires}")
        assert status in (400, 403, 404), (sent, status)
        assert OUTSIDE not in body and PICTURE[:64] not in body


def test_only_get_head_and_preflight(edge: Edge) -> None:
    """HEAD gives the headers, OPTIONS a CORS preflight answer, other methods a Matrix 405."""
    url = edge.signed("blobs/10/object5")
    head = httpx.head(url)
    assert (head.status_code, head.headers["content-length"]) == (200, str(100 * 1024))
    preflight = httpx.options(url)
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    for method in ("POST", "PUT", "DELETE"):
        _matrix_error(httpx.request(method, url, content=b"x"), 405, "M_UNRECOGNIZED")


def test_missing_object_not_found(edge: Edge) -> None:
    """A validly signed key that the store does not have is a Matrix 404."""
    _matrix_error(httpx.get(edge.signed("blobs/ff/never-stored")), 404, "M_NOT_FOUND")


def test_store_unreachable_is_matrix_error() -> None:
    """With nothing listening at the store's address, a valid link gets a Matrix 502."""
    with _start_edge(f"http://127.0.0.1:{free_port()}", "gone-bucket") as edge:
        _matrix_error(httpx.get(edge.signed("blobs/10/object1")), 502, "M_UNKNOWN")
