"""Tampered objects do not decrypt: every alteration raises TamperedObject, no bytes leak."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable

import pytest

from hearth.media_repo.storage.encryption import (
    CHUNK,
    HEADER_BYTES,
    TAG,
    DecryptingReader,
    EncryptingReader,
    TamperedObject,
)

KEY = os.urandom(32)
PLAIN = os.urandom(3 * CHUNK + 100)
DIGEST = hashlib.sha256(PLAIN).hexdigest()
SEALED = EncryptingReader(io.BytesIO(PLAIN), KEY, DIGEST).read()
SEALED_CHUNK = CHUNK + TAG


def _chunk(index: int) -> bytes:
    start = HEADER_BYTES + index * SEALED_CHUNK
    return SEALED[start:start + SEALED_CHUNK]


def _flip(offset: int) -> bytes:
    altered = bytearray(SEALED)
    altered[offset] ^= 0x01
    return bytes(altered)


ALTERATIONS: dict[str, Callable[[], bytes]] = {
    "flipped byte in the first chunk": lambda: _flip(HEADER_BYTES + 10),
    "flipped byte in the last tag": lambda: _flip(len(SEALED) - 1),
    "flipped nonce prefix": lambda: _flip(5),
    "cut at a chunk boundary": lambda: SEALED[:HEADER_BYTES + 2 * SEALED_CHUNK],
    "cut inside a chunk": lambda: SEALED[:-50],
    "chunks swapped": lambda: SEALED[:HEADER_BYTES] + _chunk(1) + _chunk(0) + SEALED[
        HEADER_BYTES + 2 * SEALED_CHUNK:],
    "chunk appended": lambda: SEALED + _chunk(0),
    "bad header": lambda: b"XXXX" + SEALED[4:],
    "empty object": lambda: b"",
}


@pytest.mark.parametrize("alteration", sorted(ALTERATIONS))
def test_tampered_object_fails_to_decrypt(alteration: str) -> None:
    """Whatever was changed, reading raises TamperedObject."""
    reader = DecryptingReader(io.BytesIO(ALTERATIONS[alteration]()), KEY, DIGEST)
    with pytest.raises(TamperedObject):
        while reader.read(16 * 1024):
            pass


def test_object_stored_under_another_hash_fails_to_decrypt() -> None:
    """An object copied over another blob's key (same key, other SHA-256) is refused."""
    other = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(TamperedObject, match="does not decrypt"):
        DecryptingReader(io.BytesIO(SEALED), KEY, other).read()


def test_object_under_another_key_fails_to_decrypt() -> None:
    """Sealed with another key (a rotated or wrong key file): refused."""
    with pytest.raises(TamperedObject):
        DecryptingReader(io.BytesIO(SEALED), os.urandom(32), DIGEST).read()
