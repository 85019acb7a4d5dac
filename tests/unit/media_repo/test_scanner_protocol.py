"""The clamd client against small scripted servers: the INSTREAM wire format, and failing
closed on every answer that is not a clear verdict (garbage, ERROR, silence, hang-ups)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools.ports import free_port
from hearth.media_repo.scanner import (
    ClamdScanner,
    ScannerUnavailable,
    ScanVerdict,
    verdict_error,
)

Behaviour = Callable[[socket.socket, "FakeClamd"], None]


class FakeClamd:
    """A TCP server on loopback that hands each connection to ``behaviour`` in a thread."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.commands: list[bytes] = []
        self.chunks: list[bytes] = []
        self.released = threading.Event()  # hanging behaviours wait for this
        self._server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._server.getsockname()[1]}"
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self.behaviour(conn, self)

    def read_command(self, conn: socket.socket) -> bytes:
        command = b""
        while not command.endswith(b"\0"):
            data = conn.recv(1)
            if not data:
                break
            command += data
        self.commands.append(command)
        return command

    def read_stream(self, conn: socket.socket) -> None:
        """Read INSTREAM chunks up to the zero-length terminator, keeping each one."""
        while True:
            size = struct.unpack(">I", self.exactly(conn, 4))[0]
            if size == 0:
                return
            self.chunks.append(self.exactly(conn, size))

    @staticmethod
    def exactly(conn: socket.socket, count: int) -> bytes:
        data = b""
        while len(data) < count:
            more = conn.recv(count - len(data))
            if not more:
                raise ConnectionError("client hung up mid-chunk")
            data += more
        return data

    def close(self) -> None:
        self.released.set()
        self._server.close()
        for thread in self._threads:
            thread.join(timeout=10)


def answering(answer: bytes) -> Behaviour:
    """Read the command and the stream, then send ``answer`` and hang up."""
    def behave(conn: socket.socket, server: FakeClamd) -> None:
        if server.read_command(conn) == b"zINSTREAM\0":
            server.read_stream(conn)
        conn.sendall(answer)
    return behave


def hanging_after_stream(conn: socket.socket, server: FakeClamd) -> None:
    """Read everything, answer nothing, keep the connection open."""
    server.read_command(conn)
    server.read_stream(conn)
    server.released.wait(30)


def deaf(conn: socket.socket, server: FakeClamd) -> None:
    """Accept and read nothing at all (the client's sends back up)."""
    server.released.wait(30)


@pytest.fixture
def fake() -> Iterator[Callable[[Behaviour], FakeClamd]]:
    servers: list[FakeClamd] = []

    def start(behaviour: Behaviour) -> FakeClamd:
        servers.append(FakeClamd(behaviour))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def upload(tmp_path: Path) -> Path:
    path = tmp_path / "upload"
    path.write_bytes(bytes(range(256)) * 4000)  # 1 MB: several chunks
    return path


def test_scan_streams_the_file_in_length_prefixed_chunks(fake: Callable[[Behaviour], FakeClamd],
                                                         upload: Path) -> None:
    """zINSTREAM, then 4-byte big-endian lengths whose chunks rebuild the file exactly."""
    server = fake(answering(b"stream: OK\0"))
    assert ClamdScanner(server.address, 10).scan_file(upload) == ScanVerdict(clean=True)
    assert server.commands == [b"zINSTREAM\0"]
    assert len(server.chunks) > 1 and b"".join(server.chunks) == upload.read_bytes()


def test_scan_reads_a_found_answer(fake: Callable[[Behaviour], FakeClamd],
                                   upload: Path) -> None:
    """``stream: <name> FOUND`` is infected, with the name as the signature."""
    server = fake(answering(b"stream: Win.Test.EICAR_HDB-1 FOUND\0"))
    verdict = ClamdScanner(server.address, 10).scan_file(upload)
    assert verdict == ScanVerdict(clean=False, signature="Win.Test.EICAR_HDB-1")


@pytest.mark.parametrize("answer", [
    b"INSTREAM size limit exceeded. ERROR\0",
    b"stream: Can't allocate memory ERROR\0",
    b"UNKNOWN COMMAND\0",
    b"stream: FOUND\0",
    b"stream: OK but not really\0",
    b"HTTP/1.1 400 Bad Request\r\n\r\n\0",
    b"\0",
], ids=["size-limit", "error", "unknown-command", "found-without-name", "ok-with-more",
        "http", "empty"])
def test_scan_refuses_an_answer_that_is_not_a_verdict(fake: Callable[[Behaviour], FakeClamd],
                                                      upload: Path, answer: bytes) -> None:
    """Errors and anything garbled raise ScannerUnavailable (fail closed), never clean."""
    server = fake(answering(answer))
    with pytest.raises(ScannerUnavailable):
        ClamdScanner(server.address, 10).scan_file(upload)


def test_scan_refuses_an_answer_cut_before_its_terminator(
        fake: Callable[[Behaviour], FakeClamd], upload: Path) -> None:
    """``stream: OK`` without the NUL before the hang-up is not an answer."""
    server = fake(answering(b"stream: OK"))
    with pytest.raises(ScannerUnavailable, match="without an answer"):
        ClamdScanner(server.address, 10).scan_file(upload)


def test_scan_refuses_an_endless_answer(fake: Callable[[Behaviour], FakeClamd],
                                        upload: Path) -> None:
    """A server that talks on without a terminator is cut off."""
    server = fake(answering(b"stream: " + b"A" * 100_000))
    with pytest.raises(ScannerUnavailable, match="too long"):
        ClamdScanner(server.address, 10).scan_file(upload)


def test_scan_refuses_a_server_that_hangs_up_at_once(fake: Callable[[Behaviour], FakeClamd],
                                                     upload: Path) -> None:
    """A connection closed without a word is unavailability."""
    server = fake(lambda conn, _: None)
    with pytest.raises(ScannerUnavailable):
        ClamdScanner(server.address, 10).scan_file(upload)


def answering_early(conn: socket.socket, server: FakeClamd) -> None:
    """Read the command and one chunk, say OK, hang up while the client still sends."""
    server.read_command(conn)
    size = struct.unpack(">I", server.exactly(conn, 4))[0]
    server.exactly(conn, size)
    conn.sendall(b"stream: OK\0")


def test_scan_refuses_an_ok_about_part_of_the_file(fake: Callable[[Behaviour], FakeClamd],
                                                   tmp_path: Path) -> None:
    """An OK given before the whole file was sent is no verdict on the file."""
    server = fake(answering_early)
    big = tmp_path / "big"
    big.write_bytes(b"\0" * (32 << 20))
    with pytest.raises(ScannerUnavailable):
        ClamdScanner(server.address, 10).scan_file(big)


def test_scan_of_a_silent_server_times_out(fake: Callable[[Behaviour], FakeClamd],
                                           upload: Path) -> None:
    """A server that reads the file and never answers: ScannerUnavailable after the timeout."""
    server = fake(hanging_after_stream)
    with pytest.raises(ScannerUnavailable, match=r"did not answer within 0\.5 s"):
        ClamdScanner(server.address, 0.5).scan_file(upload)


def test_scan_of_a_server_that_stops_reading_times_out(
        fake: Callable[[Behaviour], FakeClamd], tmp_path: Path) -> None:
    """The timeout also bounds sending: a server that reads nothing cannot stall the upload."""
    server = fake(deaf)
    big = tmp_path / "big"
    big.write_bytes(b"\0" * (32 << 20))
    with pytest.raises(ScannerUnavailable, match=r"within 0\.5 s"):
        ClamdScanner(server.address, 0.5).scan_file(big)


def test_scan_of_a_refused_connection_is_unavailable(upload: Path) -> None:
    """Nothing listening on the port: ScannerUnavailable naming the address."""
    address = f"127.0.0.1:{free_port()}"
    with pytest.raises(ScannerUnavailable, match=address):
        ClamdScanner(address, 5).scan_file(upload)


def test_scan_of_a_missing_unix_socket_is_unavailable(tmp_path: Path, upload: Path) -> None:
    """No socket file at the path: ScannerUnavailable."""
    with pytest.raises(ScannerUnavailable, match="cannot connect"):
        ClamdScanner(str(tmp_path / "clamd.sock"), 5).scan_file(upload)


def test_ping_reads_pong(fake: Callable[[Behaviour], FakeClamd]) -> None:
    """zPING answered PONG is True."""
    server = fake(answering(b"PONG\0"))
    assert ClamdScanner(server.address, 5).ping()
    assert server.commands == [b"zPING\0"]


@pytest.mark.parametrize("behaviour", [answering(b"PANG\0"), hanging_after_stream],
                         ids=["garbled", "silent"])
def test_ping_of_a_wrong_server_is_false(fake: Callable[[Behaviour], FakeClamd],
                                         behaviour: Behaviour) -> None:
    """Anything but PONG within the timeout is False."""
    assert not ClamdScanner(fake(behaviour).address, 0.5).ping()


def test_address_with_a_bad_port_is_a_config_error() -> None:
    """``host:port`` with a port that is not a number is refused at construction."""
    with pytest.raises(ValueError, match="neither a socket path nor host:port"):
        ClamdScanner("clamd:port", 5)


def test_verdict_error_names_the_signature() -> None:
    """An infected verdict becomes 403 M_FORBIDDEN, reason infected, naming the signature."""
    error = verdict_error(ScanVerdict(clean=False, signature="Eicar-Test-Signature"))
    assert (error.status, error.errcode, error.reason) == (403, "M_FORBIDDEN", "infected")
    assert error.message == ("The file was refused: malware was found in it "
                             "(Eicar-Test-Signature)")


def test_verdict_error_of_a_clean_verdict_is_a_bug() -> None:
    """A clean verdict is not turned into a refusal."""
    with pytest.raises(ValueError):
        verdict_error(ScanVerdict(clean=True))

