"""Presigned URLs: fetchable by a plain HTTP client with the headers asked for, refused once
expired or altered (checked by the front, as S3 checks them: moto alone checks neither)."""

from __future__ import annotations

import io
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from hearth.media_repo.storage.s3 import S3ObjectStore
from tests.harness.calls import eventually
from tests.harness.s3 import SessionS3

DISPOSITION = "inline; filename*=utf-8''caf%C3%A9.png"


def _put(store: S3ObjectStore) -> None:
    store.put_stream("blobs/ab/object", io.BytesIO(b"the bytes"), "application/octet-stream")


def _url(store: S3ObjectStore, lifetime_s: int = 60) -> str:
    url = store.presign_get("blobs/ab/object", lifetime_s, content_type="image/png",
                            content_disposition=DISPOSITION,
                            cache_control="private, max-age=300")
    assert url is not None
    return url


def test_presigned_url_serves_the_object_with_the_asked_headers(s3_store: S3ObjectStore) -> None:
    """A GET of the URL answers 200 with the bytes, Content-Type, Disposition and Cache-Control."""
    _put(s3_store)
    answer = httpx.get(_url(s3_store))
    assert answer.status_code == 200 and answer.content == b"the bytes"
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["content-disposition"] == DISPOSITION
    assert answer.headers["cache-control"] == "private, max-age=300"


def test_presigned_url_is_sigv4_with_the_asked_lifetime(s3_store: S3ObjectStore) -> None:
    """The URL carries a SigV4 query signature valid for exactly the lifetime asked."""
    query = dict(parse_qsl(urlsplit(_url(s3_store, 123)).query))
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "123" and query["X-Amz-SignedHeaders"] == "host"


async def test_presigned_url_refused_after_it_expires(s3_store: S3ObjectStore,
                                                      s3_server: SessionS3) -> None:
    """Once the lifetime has passed the same URL answers 403 AccessDenied."""
    _put(s3_store)
    url = _url(s3_store, 1)
    refused_before = s3_server.refused_presigned

    async def fetch() -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.get(url)

    answer = await eventually(fetch, lambda r: r.status_code != 200, timeout=10,
                              what="the URL to expire")
    assert answer.status_code == 403 and b"Request has expired" in answer.content
    assert s3_server.refused_presigned > refused_before


@pytest.mark.parametrize("change", ["key", "disposition", "expires", "signature"])
def test_presigned_url_refused_when_altered(s3_store: S3ObjectStore, change: str) -> None:
    """Changing the key, a response header, the lifetime or the signature: 403."""
    _put(s3_store)
    s3_store.put_stream("blobs/ab/other", io.BytesIO(b"other"), "x/y")
    parts = urlsplit(_url(s3_store))
    query = dict(parse_qsl(parts.query))
    path = parts.path
    if change == "key":
        path = path.replace("object", "other")
    elif change == "disposition":
        query["response-content-disposition"] = "inline; filename=evil.html"
    elif change == "expires":
        query["X-Amz-Expires"] = "604800"
    else:
        query["X-Amz-Signature"] = "0" * 64
    altered = urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))
    answer = httpx.get(altered)
    assert answer.status_code == 403 and b"SignatureDoesNotMatch" in answer.content


def test_presigned_url_still_valid_before_expiry(s3_store: S3ObjectStore) -> None:
    """Within its lifetime the URL works more than once (clients retry, caches refill)."""
    _put(s3_store)
    url = _url(s3_store, 600)
    assert [httpx.get(url).status_code for _ in range(2)] == [200, 200]
