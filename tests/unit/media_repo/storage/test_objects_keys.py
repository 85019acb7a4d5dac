"""Blob keys: content-addressed names under the prefix, and only those read back."""

from __future__ import annotations

import hashlib

import pytest

from hearth.media_repo.storage.objects import blob_key, sha256_of_key

DIGEST = hashlib.sha256(b"x").hexdigest()


def test_blob_key_fans_out_by_the_first_two_hex_digits() -> None:
    """A blob lives at <prefix>blobs/<first two digits>/<digest>."""
    assert blob_key("hearth/", DIGEST) == f"hearth/blobs/{DIGEST[:2]}/{DIGEST}"


def test_blob_key_refuses_anything_but_a_digest() -> None:
    """A path-like or short name is never turned into a key."""
    for bad in ("../etc", DIGEST[:-1], DIGEST.upper(), ""):
        with pytest.raises(ValueError, match="SHA-256"):
            blob_key("", bad)


def test_sha256_of_key_reads_back_only_blob_keys() -> None:
    """Keys of other shapes (temporary files, wrong fan-out, outside the prefix) are None."""
    assert sha256_of_key("p/", blob_key("p/", DIGEST)) == DIGEST
    assert sha256_of_key("p/", f"p/blobs/00/{DIGEST}") is None
    assert sha256_of_key("p/", f"p/blobs/{DIGEST[:2]}/.{DIGEST}.tmp-1") is None
    assert sha256_of_key("q/", blob_key("p/", DIGEST)) is None
