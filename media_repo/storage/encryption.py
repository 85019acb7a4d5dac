"""At-rest encryption of objects: AES-256-GCM in 64 KiB chunks, so files stream both ways.

An encrypted object is a 12-byte header (``HMB\\x01`` and a random 8-byte nonce prefix), then
each chunk of plaintext sealed with the nonce ``prefix || counter`` (4 bytes, big-endian). The
associated data binds every chunk to the header, to the SHA-256 the object is stored under
(so one object copied over another fails) and to whether it is the last chunk (so a cut at a
chunk boundary fails too). Tampered, truncated, reordered or swapped objects raise
:class:`TamperedObject` instead of returning bytes.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"HMB\x01"
PREFIX_BYTES = 8
HEADER_BYTES = len(MAGIC) + PREFIX_BYTES
CHUNK = 64 * 1024
TAG = 16
KEY_BYTES = 32


class KeyFileError(ValueError):
    """The key file is missing or does not hold 32 bytes in base64."""


class TamperedObject(Exception):
    """The object does not decrypt: altered, truncated, swapped or sealed with another key."""


def load_key(path: str | Path) -> bytes:
    """The 32-byte key from a file holding it in base64 (surrounding whitespace ignored)."""
    try:
        text = Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read the media encryption key file {path}: {exc}") from exc
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"the media encryption key file {path} must hold {KEY_BYTES} "
                           "random bytes in base64 (for example: head -c 32 /dev/urandom | "
                           "base64)")
    return key


def encrypted_size(plain_size: int) -> int:
    """How many bytes the object of a ``plain_size``-byte file takes."""
    chunks = max(1, -(-plain_size // CHUNK))
    return HEADER_BYTES + plain_size + chunks * TAG


def _aad(header: bytes, sha256: str, last: bool) -> bytes:
    return header + bytes.fromhex(sha256) + (b"\x01" if last else b"\x00")


def _nonce(prefix: bytes, counter: int) -> bytes:
    return prefix + struct.pack(">I", counter)


def _read_full(source: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at the end of ``source`` (short reads are filled)."""
    parts: list[bytes] = []
    wanted = size
    while wanted > 0:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


class _ChunkReader:
    """``read(n)`` over chunks made on demand by ``_next_chunk`` (None at the end)."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._chunk = b""
        self._offset = 0
        self._finished = False

    def _next_chunk(self) -> bytes | None:
        raise NotImplementedError

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            if self._offset == len(self._chunk):
                chunk = None if self._finished else self._next_chunk()
                if chunk is None:
                    self._finished = True
                    break
                self._chunk, self._offset = chunk, 0
            end = len(self._chunk) if size < 0 else min(len(self._chunk),
                                                        self._offset + size - len(out))
            out += memoryview(self._chunk)[self._offset:end]
            self._offset = end
        return bytes(out)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> _ChunkReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EncryptingReader(_ChunkReader):
    """Reads ``source`` (plaintext) as the encrypted object stored under ``sha256``."""

    def __init__(self, source: BinaryIO, key: bytes, sha256: str) -> None:
        super().__init__(source)
        self._aead = AESGCM(key)
        self._prefix = os.urandom(PREFIX_BYTES)
        self._header = MAGIC + self._prefix
        self._sha256 = sha256
        self._counter = 0
        self._pending: bytes | None = None
        self._started = False
        self._done = False

    def _next_chunk(self) -> bytes | None:
        if not self._started:
            self._started = True
            return self._header
        if self._done:
            return None
        current = self._pending if self._pending is not None else _read_full(self._source,
                                                                             CHUNK)
        following = _read_full(self._source, CHUNK) if len(current) == CHUNK else b""
        last = not following
        self._pending = following
        sealed = self._aead.encrypt(_nonce(self._prefix, self._counter), current,
                                    _aad(self._header, self._sha256, last))
        self._counter += 1
        self._done = last
        return sealed


class DecryptingReader(_ChunkReader):
    """Reads the encrypted object ``source`` (stored under ``sha256``) as its plaintext."""

    def __init__(self, source: BinaryIO, key: bytes, sha256: str) -> None:
        super().__init__(source)
        self._aead = AESGCM(key)
        self._sha256 = sha256
        self._header: bytes | None = None
        self._counter = 0
        self._pending: bytes | None = None
        self._done = False

    def _next_chunk(self) -> bytes | None:
        if self._done:
            return None
        if self._header is None:
            header = _read_full(self._source, HEADER_BYTES)
            if len(header) != HEADER_BYTES or not header.startswith(MAGIC):
                raise TamperedObject("not an encrypted media object (bad header)")
            self._header = header
        sealed_size = CHUNK + TAG
        current = self._pending if self._pending is not None else _read_full(self._source,
                                                                             sealed_size)
        following = _read_full(self._source, sealed_size) if len(current) == sealed_size \
            else b""
        last = not following
        self._pending = following
        try:
            plain = self._aead.decrypt(_nonce(self._header[len(MAGIC):], self._counter),
                                       current, _aad(self._header, self._sha256, last))
        except InvalidTag:
            raise TamperedObject(f"chunk {self._counter} of the object for {self._sha256} "
                                 "does not decrypt") from None
        self._counter += 1
        self._done = last
        return plain
