"""Ask ClamAV's clamd whether an upload carries malware, before it becomes downloadable.

clamd's protocol is small enough to speak directly (no third-party client): ``zINSTREAM``
streams the file in chunks, each prefixed with its length as 4 big-endian bytes, ended by a
zero-length chunk; the answer is one NUL-terminated line, ``stream: OK``,
``stream: <Signature> FOUND`` or ``... ERROR``.

Fail closed: only a well-formed ``OK`` is clean. Anything else — clamd unreachable, refusing,
slow past the timeout, answering garbage or an ``ERROR`` (such as its stream size limit) —
raises :class:`ScannerUnavailable`, and the caller decides (by default: refuse the upload).

Blocking: call it from a thread, never on the reactor.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from hearth.media_repo import errors

_CHUNK_BYTES = 256 * 1024
_MAX_ANSWER_BYTES = 4096  # a real answer is one short line; more is garbage


@dataclass(frozen=True)
class ScanVerdict:
    """clamd's verdict on one file: clean, or the signature it matched."""

    clean: bool
    signature: str | None = None


class ScannerUnavailable(Exception):
    """clamd gave no usable verdict; ``reason`` says why (for the log, not the client)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ClamdScanner:
    """A clamd at ``address``: a unix socket path, or ``host:port`` for TCP.

    ``timeout_s`` bounds each whole exchange (connect, send, answer), not each read.
    """

    def __init__(self, address: str, timeout_s: float) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self._target = _parse_address(address)

    def scan_file(self, path: Path) -> ScanVerdict:
        """Stream ``path`` to clamd and return its verdict, or raise ScannerUnavailable."""
        with _Exchange(self._target, self.address, self.timeout_s) as exchange:
            # clamd stops reading at its size limit and says so: then read that answer.
            whole = exchange.send(b"zINSTREAM\0") and self._stream(path, exchange)
            verdict = _verdict(exchange.answer())
        if verdict.clean and not whole:
            raise ScannerUnavailable(f"clamd at {self.address} stopped reading before the end "
                                     "of the file: its OK is not about the whole file")
        return verdict

    @staticmethod
    def _stream(path: Path, exchange: _Exchange) -> bool:
        """Send ``path`` as INSTREAM chunks and the terminator; False if clamd hung up."""
        with path.open("rb") as source:
            while chunk := source.read(_CHUNK_BYTES):
                if not exchange.send(struct.pack(">I", len(chunk)) + chunk):
                    return False
        return exchange.send(struct.pack(">I", 0))

    def ping(self) -> bool:
        """Whether clamd answers ``PONG`` to ``zPING`` within the timeout."""
        try:
            with _Exchange(self._target, self.address, self.timeout_s) as exchange:
                exchange.send(b"zPING\0")
                return exchange.answer() == "PONG"
        except ScannerUnavailable:
            return False


def verdict_error(verdict: ScanVerdict) -> errors.MediaRejected:
    """The refusal of a file clamd found infected."""
    if verdict.clean:
        raise ValueError("a clean verdict is not a refusal")
    return errors.forbidden(
        f"The file was refused: malware was found in it ({verdict.signature})", "infected")


def _parse_address(address: str) -> str | tuple[str, int]:
    """A unix socket path as it is, ``host:port`` (or ``[v6]:port``) as a TCP target."""
    if "/" in address or ":" not in address:
        return address
    host, _, port = address.rpartition(":")
    if not port.isdigit() or not host:
        raise ValueError(f"clamd address {address!r} is neither a socket path nor host:port")
    return host.strip("[]"), int(port)


def _verdict(answer: str) -> ScanVerdict:
    """Read clamd's INSTREAM answer; only the two well-formed verdicts come back."""
    if answer.endswith("ERROR"):
        raise ScannerUnavailable(f"clamd answered {answer!r}")
    if answer == "stream: OK":
        return ScanVerdict(clean=True)
    found = answer.removeprefix("stream: ")
    if found != answer and found.endswith(" FOUND"):
        signature = found.removesuffix(" FOUND").strip()
        if signature:
            return ScanVerdict(clean=False, signature=signature)
    raise ScannerUnavailable(f"clamd's answer is not a verdict: {answer[:200]!r}")


class _Exchange:
    """One connection to clamd with one deadline for everything said on it."""

    def __init__(self, target: str | tuple[str, int], address: str, timeout_s: float) -> None:
        self._target = target
        self._address = address
        self._deadline = time.monotonic() + timeout_s
        self._timeout_s = timeout_s
        self._sock: socket.socket | None = None

    def __enter__(self) -> _Exchange:
        family = socket.AF_UNIX if isinstance(self._target, str) else socket.AF_INET
        if isinstance(self._target, tuple) and ":" in self._target[0]:
            family = socket.AF_INET6
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._arm()
            self._sock.connect(self._target)
        except OSError as e:
            self._sock.close()
            raise ScannerUnavailable(self._explain("cannot connect to", e)) from e
        return self

    def __exit__(self, *_: object) -> None:
        if self._sock is not None:
            self._sock.close()

    def send(self, data: bytes) -> bool:
        """Send ``data``; False when clamd has closed its side (its answer may be waiting)."""
        assert self._sock is not None
        try:
            self._arm()
            self._sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return False
        except OSError as e:
            raise ScannerUnavailable(self._explain("cannot send to", e)) from e
        return True

    def answer(self) -> str:
        """clamd's NUL-terminated answer, without the NUL; ScannerUnavailable otherwise."""
        assert self._sock is not None
        received = b""
        while b"\0" not in received:
            if len(received) > _MAX_ANSWER_BYTES:
                raise ScannerUnavailable("clamd's answer is too long to be a verdict")
            try:
                self._arm()
                data = self._sock.recv(1024)
            except OSError as e:
                raise ScannerUnavailable(self._explain("no answer from", e)) from e
            if not data:
                raise ScannerUnavailable(
                    f"clamd at {self._address} closed the connection without an answer "
                    f"(got {received[:200]!r})")
            received += data
        return received.split(b"\0", 1)[0].decode("utf-8", "replace").strip()

    def _arm(self) -> None:
        assert self._sock is not None
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self._sock.settimeout(left)

    def _explain(self, what: str, error: OSError) -> str:
        if isinstance(error, TimeoutError):
            return f"clamd at {self._address} did not answer within {self._timeout_s:g} s"
        return f"{what} clamd at {self._address}: {error}"
