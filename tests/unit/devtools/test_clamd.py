"""The test clamd: a signature database made with sigtool, both sockets answering, restarts
on the same addresses, and a clear failure when it cannot start."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest

from devtools.clamd import EICAR, EICAR_NAME, Clamd
from hearth.media_repo.scanner import ClamdScanner


def test_database_holds_a_hash_signature_per_sample(tmp_path: Path) -> None:
    """sigtool writes md5:size:name for each sample and for EICAR."""
    sample = b"a sample of the test"
    clamd = Clamd(tmp_path, {"Sample": sample})
    clamd.start()
    clamd.stop()
    lines = (tmp_path / "db" / "test.hdb").read_text().splitlines()
    assert sorted(lines) == sorted([
        f"{hashlib.md5(sample).hexdigest()}:{len(sample)}:Sample",
        f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:{EICAR_NAME}",
    ])


def test_start_answers_on_both_sockets_and_stop_removes_the_socket(tmp_path: Path) -> None:
    """Once start returns, PING works on the unix socket and on loopback TCP."""
    clamd = Clamd(tmp_path, {})
    clamd.start()
    try:
        assert clamd.tcp_address.startswith("127.0.0.1:")
        assert ClamdScanner(str(clamd.socket_path), 5).ping()
        assert ClamdScanner(clamd.tcp_address, 5).ping()
        assert clamd.startup_s is not None
    finally:
        clamd.stop()
    assert not clamd.socket_path.exists()
    assert not ClamdScanner(clamd.tcp_address, 5).ping()


def test_restart_keeps_the_addresses(tmp_path: Path) -> None:
    """stop() then start() serves again on the same socket path and port."""
    clamd = Clamd(tmp_path, {})
    clamd.start()
    clamd.stop()
    clamd.start()
    try:
        assert ClamdScanner(clamd.tcp_address, 5).ping()
    finally:
        clamd.stop()


def test_start_that_fails_says_why(tmp_path: Path) -> None:
    """With its TCP port taken clamd logs an ERROR: start raises with clamd's own output."""
    clamd = Clamd(tmp_path, {})
    with socket.create_server(("127.0.0.1", clamd.port)), \
            pytest.raises(RuntimeError, match="did not start") as caught:
        clamd.start()
    assert "Cannot bind" in str(caught.value)
    assert not clamd.running()
