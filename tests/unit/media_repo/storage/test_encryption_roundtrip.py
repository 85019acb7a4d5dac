"""At-rest encryption: what goes in comes out, at every size around the chunk boundaries."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from hearth.media_repo.storage.encryption import (
    CHUNK,
    HEADER_BYTES,
    DecryptingReader,
    EncryptingReader,
    encrypted_size,
)

KEY = os.urandom(32)


def seal(plain: bytes, sha256: str | None = None) -> bytes:
    digest = sha256 or hashlib.sha256(plain).hexdigest()
    return EncryptingReader(io.BytesIO(plain), KEY, digest).read()


def open_sealed(sealed: bytes, sha256: str, read_size: int = -1) -> bytes:
    reader = DecryptingReader(io.BytesIO(sealed), KEY, sha256)
    if read_size < 0:
        return reader.read()
    parts = []
    while part := reader.read(read_size):
        parts.append(part)
    return b"".join(parts)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7])
def test_encryption_round_trip_at_chunk_boundaries(size: int) -> None:
    """Each size decrypts to the same bytes; the object is exactly encrypted_size long."""
    plain = os.urandom(size)
    digest = hashlib.sha256(plain).hexdigest()
    sealed = seal(plain)
    assert len(sealed) == encrypted_size(size)
    assert open_sealed(sealed, digest) == plain
    assert open_sealed(sealed, digest, read_size=16 * 1024) == plain


def test_encryption_hides_the_content() -> None:
    """The object holds no run of the plaintext, and the same file seals differently twice."""
    plain = b"a secret attachment " * 1000
    first, second = seal(plain), seal(plain)
    assert plain[:64] not in first and first[HEADER_BYTES:] != second[HEADER_BYTES:]


def test_encryption_reads_short_reads_from_its_source() -> None:
    """A source that hands out a few bytes per read (a socket) still seals whole chunks."""
    class Trickle(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            return super().read(min(size if size and size > 0 else 7, 7))

    plain = os.urandom(2 * CHUNK + 5)
    digest = hashlib.sha256(plain).hexdigest()
    sealed = EncryptingReader(Trickle(plain), KEY, digest).read()
    assert open_sealed(sealed, digest) == plain
