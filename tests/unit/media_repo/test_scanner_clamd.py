"""The scanner against a real clamd with a test signature: clean, infected (named), and
clamd going away, over the unix socket and TCP."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.clamd import EICAR, Clamd, signature_name
from hearth.media_repo.scanner import ClamdScanner, ScannerUnavailable, ScanVerdict
from tests.harness.clamd import SessionClamd

TIMEOUT_S = 30.0


@pytest.fixture(params=["unix", "tcp"])
def scanner(request: pytest.FixtureRequest, clamd: SessionClamd) -> ClamdScanner:
    """A scanner for the session's clamd, over each kind of socket."""
    address = str(clamd.socket_path) if request.param == "unix" else clamd.tcp_address
    return ClamdScanner(address, TIMEOUT_S)


def file_with(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "upload"
    path.write_bytes(content)
    return path


def test_scan_of_a_clean_file_is_clean(scanner: ClamdScanner, tmp_path: Path) -> None:
    """Random bytes match nothing: clean, no signature."""
    verdict = scanner.scan_file(file_with(tmp_path, secrets.token_bytes(10_000)))
    assert verdict == ScanVerdict(clean=True, signature=None)


def test_scan_of_a_file_of_many_chunks_is_clean(scanner: ClamdScanner, tmp_path: Path) -> None:
    """A 3 MB file goes over in several chunks and comes back clean."""
    assert scanner.scan_file(file_with(tmp_path, secrets.token_bytes(3 << 20))).clean


def test_scan_of_an_empty_file_is_clean(scanner: ClamdScanner, tmp_path: Path) -> None:
    """Zero bytes: only the terminating chunk is sent."""
    assert scanner.scan_file(file_with(tmp_path, b"")).clean


def test_scan_of_the_signed_sample_names_its_signature(scanner: ClamdScanner,
                                                       clamd: SessionClamd,
                                                       tmp_path: Path) -> None:
    """The sample signed for this session is infected, with the test signature's name."""
    verdict = scanner.scan_file(file_with(tmp_path, clamd.infected_sample))
    assert verdict == ScanVerdict(clean=False, signature=clamd.infected_signature)


def test_scan_of_a_changed_sample_is_clean(scanner: ClamdScanner, clamd: SessionClamd,
                                           tmp_path: Path) -> None:
    """One byte changed is another file: the hash signature no longer matches."""
    changed = bytes([clamd.infected_sample[0] ^ 1]) + clamd.infected_sample[1:]
    assert scanner.scan_file(file_with(tmp_path, changed)).clean


def test_scan_of_eicar_is_infected(scanner: ClamdScanner, tmp_path: Path) -> None:
    """The EICAR test file is detected too (its own signature)."""
    verdict = scanner.scan_file(file_with(tmp_path, EICAR))
    assert verdict.signature == signature_name("Eicar-Test-Signature")


def test_ping_of_a_running_clamd_is_true(scanner: ClamdScanner) -> None:
    """zPING is answered PONG."""
    assert scanner.ping()


@pytest.fixture
def stopped(clamd: SessionClamd) -> Iterator[SessionClamd]:
    """The session's clamd stopped for one test, started again afterwards."""
    clamd.stop()
    try:
        yield clamd
    finally:
        clamd.start()


def test_scan_without_clamd_is_unavailable(stopped: SessionClamd, tmp_path: Path) -> None:
    """clamd gone: both sockets raise ScannerUnavailable, never a verdict."""
    upload = file_with(tmp_path, stopped.infected_sample)
    for address in (str(stopped.socket_path), stopped.tcp_address):
        with pytest.raises(ScannerUnavailable, match="cannot connect"):
            ClamdScanner(address, TIMEOUT_S).scan_file(upload)


def test_ping_without_clamd_is_false(stopped: SessionClamd) -> None:
    """clamd gone: ping says so instead of raising."""
    assert not ClamdScanner(stopped.tcp_address, TIMEOUT_S).ping()


def test_scan_past_clamds_stream_limit_is_unavailable(tmp_path: Path) -> None:
    """A file larger than clamd's StreamMaxLength gets an ERROR answer: no verdict."""
    small = Clamd(tmp_path / "clamd", {}, stream_max_bytes=1 << 20)
    small.start()
    try:
        with pytest.raises(ScannerUnavailable):
            ClamdScanner(str(small.socket_path), TIMEOUT_S).scan_file(
                file_with(tmp_path, secrets.token_bytes(3 << 20)))
    finally:
        small.stop()
