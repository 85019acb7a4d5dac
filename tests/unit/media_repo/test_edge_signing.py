"""Signed media-edge URLs (media_repo/edge_signing.py) in nginx's secure_link format: what
sign() writes, verify() accepts, and each alteration refused. The same rule in a real nginx:
tests/integration/hearth/test_media_edge_nginx.py."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from hearth.media_repo.edge_signing import (
    edge_path,
    secret_from_file_text,
    sign,
    signature,
    verify,
)

SECRET = b"an-edge-secret-of-some-length"
PATH = edge_path("blobs/ab/abcdef")
NOW = 1_800_000_000


def _args(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path, query["md5"][0], int(query["expires"][0])


def test_signature_is_nginx_md5_base64url() -> None:
    """md5 is base64url (no padding) of MD5("<expires><path> <secret>"), as nginx computes
    ``secure_link_md5 "$secure_link_expires$uri <secret>"``."""
    digest = hashlib.md5(f"{NOW}{PATH} ".encode() + SECRET, usedforsecurity=False).digest()
    expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert signature(PATH, SECRET, NOW) == expected
    assert len(expected) == 22 and "=" not in expected


def test_signed_url_verifies() -> None:
    """sign() gives the edge's URL with md5 and expires that verify() accepts until then."""
    url = sign("https://cdn.example.org", PATH, SECRET, NOW + 300)
    assert url.startswith("https://cdn.example.org/media-edge/blobs/ab/abcdef?md5=")
    path, md5, expires = _args(url)
    assert verify(path, md5, expires, SECRET, NOW)
    assert verify(path, md5, expires, SECRET, NOW + 300)  # nginx: valid up to the second


def test_base_url_path_is_signed() -> None:
    """A path in the base URL is part of what the edge sees, so of what is signed."""
    path, md5, expires = _args(sign("https://cdn.example.org/edge/", PATH, SECRET, NOW + 60))
    assert path == "/edge" + PATH
    assert verify(path, md5, expires, SECRET, NOW)
    assert not verify(PATH, md5, expires, SECRET, NOW)


def test_expired_refused() -> None:
    """After ``expires`` the signature no longer verifies."""
    path, md5, expires = _args(sign("https://cdn.example.org", PATH, SECRET, NOW))
    assert not verify(path, md5, expires, SECRET, NOW + 1)


@pytest.mark.parametrize("alteration", ["path", "md5", "expires", "secret"])
def test_alterations_refused(alteration: str) -> None:
    """Another path, a changed md5, a later expiry or another secret: refused."""
    path, md5, expires = _args(sign("https://cdn.example.org", PATH, SECRET, NOW + 300))
    changed = {"path": (edge_path("blobs/ab/abcdeg"), md5, expires, SECRET),
               "md5": (path, ("B" if md5[0] == "A" else "A") + md5[1:], expires, SECRET),
               "expires": (path, md5, expires + 1, SECRET),
               "secret": (path, md5, expires, SECRET + b"x")}[alteration]
    assert not verify(*changed, now=NOW)


@pytest.mark.parametrize("md5", ["", "x", "not base64!", "A" * 25, "A" * 21, "A" * 23])
def test_malformed_md5_refused(md5: str) -> None:
    """What nginx refuses to decode (too long, not base64url, not 16 bytes) never verifies."""
    assert not verify(PATH, md5, NOW + 60, SECRET, NOW)


def test_padding_accepted_like_nginx() -> None:
    """nginx stops decoding at '=', so a padded md5 is the same signature."""
    assert verify(PATH, signature(PATH, SECRET, NOW + 60) + "==", NOW + 60, SECRET, NOW)


@pytest.mark.parametrize("expires", [0, -5])
def test_non_positive_expires_refused(expires: int) -> None:
    """nginx treats an expiry that is not a positive time as no signature at all."""
    assert not verify(PATH, signature(PATH, SECRET, expires), expires, SECRET, -100)
    with pytest.raises(ValueError, match="expires"):
        sign("https://cdn.example.org", PATH, SECRET, expires)


@pytest.mark.parametrize("path", ["media-edge/x", "/media-edge//x", "/media-edge/./x",
                                  "/media-edge/../x", "/media-edge/x/"])
def test_unnormalised_path_refused(path: str) -> None:
    """sign() refuses paths nginx would normalise before checking (the link would fail)."""
    with pytest.raises(ValueError, match="normalised"):
        sign("https://cdn.example.org", path, SECRET, NOW)


@pytest.mark.parametrize("base_url", ["cdn.example.org", "ftp://cdn.example.org",
                                      "https://cdn.example.org/?x=1", "https:///path"])
def test_bad_base_url_refused(base_url: str) -> None:
    """Only an http(s) base URL with a host and no query is signed for."""
    with pytest.raises(ValueError, match="base URL"):
        sign(base_url, PATH, SECRET, NOW)


def test_path_quoted_in_url() -> None:
    """Characters outside the URL's safe set are percent-encoded; the signature covers the
    decoded path, which is what nginx's $uri holds."""
    path, md5, expires = _args(sign("https://cdn.example.org", "/media-edge/a b", SECRET, 9))
    assert path == "/media-edge/a%20b"
    assert verify("/media-edge/a b", md5, expires, SECRET, 1)


def test_secret_file_text_stripped() -> None:
    """A secret file's trailing newline is not part of the secret."""
    assert secret_from_file_text("s3cr3t-value\n") == b"s3cr3t-value"
