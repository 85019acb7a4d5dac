"""A real clamd on loopback for the tests and the benchmark, offline and quick to start.

ClamAV needs no downloaded signatures for this: ``sigtool --md5 FILE`` writes a hash signature
(``<md5>:<size>:<name>``) for a given file into ``db/test.hdb``, and a clamd whose
``DatabaseDirectory`` holds only that detects exactly the files given (as
``<name>.UNOFFICIAL``), plus the EICAR test string. With so small a database clamd answers
``PING`` within a fraction of a second; no freshclam runs.

It listens on a unix socket in its directory and on a free TCP port of 127.0.0.1. As a
process, for trying things by hand::

    python -m devtools.clamd /tmp/clamd-dir

prints ``ready: <socket path> 127.0.0.1:<port>`` and runs until interrupted.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from devtools.ports import free_port
from devtools.processes import printed_line, start_logged, stop_process, wait_until_ready
from hearth.media_repo.scanner import ClamdScanner

# The standard antivirus test file (https://www.eicar.org), harmless by design.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_NAME = "Eicar-Test-Signature"

CONFIG = """\
Foreground yes
LogFile {directory}/clamd.log
LogTime yes
PidFile {directory}/clamd.pid
TemporaryDirectory {directory}/tmp
DatabaseDirectory {directory}/db
LocalSocket {directory}/clamd.sock
TCPSocket {port}
TCPAddr 127.0.0.1
StreamMaxLength {max_bytes}
MaxFileSize {max_bytes}
MaxScanSize {max_bytes}
AlertExceedsMax yes
SelfCheck 0
"""


def signature_name(name: str) -> str:
    """What clamd reports for a file signed under ``name`` (sigtool's hash signatures are
    unofficial)."""
    return f"{name}.UNOFFICIAL"


class Clamd:
    """One clamd in ``directory``, detecting ``samples`` (signature name -> file content) and
    EICAR. ``start`` and ``stop`` may be called again: the port and socket stay the same."""

    def __init__(self, directory: Path, samples: Mapping[str, bytes], *,
                 stream_max_bytes: int = 200 << 20, ready_timeout_s: float = 30.0) -> None:
        self.directory = directory
        self.samples = {EICAR_NAME: EICAR, **samples}
        self.stream_max_bytes = stream_max_bytes
        self.ready_timeout_s = ready_timeout_s
        self.port = free_port()
        self.startup_s: float | None = None  # how long the last start took to answer PING
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return self.directory / "clamd.sock"

    @property
    def tcp_address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.directory / "clamd.conf"

    def start(self) -> None:
        """Start clamd (writing its database and config the first time); return once it
        answers PING on both sockets."""
        if self.running():
            return
        if not self.config_path.exists():
            self._prepare()
        began = time.monotonic()
        self._process = start_logged([_tool("clamd"), "-c", str(self.config_path)],
                                     self.directory / "clamd.out", self.directory)
        # clamd carries on without a socket it cannot bind: an ERROR line is a failed start.
        settled = wait_until_ready(self._process, lambda: self._failed() or self._answers(),
                                   self.ready_timeout_s, 0.02)
        if not settled or self._failed():
            self.stop()
            raise RuntimeError(f"clamd did not start (an ERROR, or no PING within "
                               f"{self.ready_timeout_s:g} s); {self.directory / 'clamd.out'}:"
                               f"\n{self._output_tail()}")
        self.startup_s = time.monotonic() - began

    def stop(self) -> None:
        """Stop clamd politely (it removes its socket), killing it if it does not listen."""
        if self._process is not None:
            stop_process(self._process, 10.0)
            self._process = None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _failed(self) -> bool:
        return printed_line(self.directory / "clamd.out", "ERROR:")

    def _answers(self) -> bool:
        return all(ClamdScanner(address, 2.0).ping()
                   for address in (str(self.socket_path), self.tcp_address))

    def _prepare(self) -> None:
        for sub in ("db", "tmp", "samples"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        lines = []
        for name, content in self.samples.items():
            (self.directory / "samples" / name).write_bytes(content)
            lines.append(subprocess.run([_tool("sigtool"), "--md5", name],
                                        cwd=self.directory / "samples", check=True,
                                        capture_output=True, text=True).stdout.strip())
        (self.directory / "db" / "test.hdb").write_text("\n".join(lines) + "\n")
        self.config_path.write_text(CONFIG.format(directory=self.directory, port=self.port,
                                                  max_bytes=self.stream_max_bytes))

    def _output_tail(self) -> str:
        """clamd's ERROR lines, then the last lines of its output."""
        out = self.directory / "clamd.out"
        lines = out.read_text(errors="replace").splitlines() if out.exists() else []
        return "\n".join([line for line in lines if line.startswith("ERROR:")] + ["..."]
                         + lines[-10:])


def _tool(name: str) -> str:
    """A ClamAV executable; deploy/system-packages.txt installs them (clamav-daemon, clamav)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise RuntimeError(f"{name} is not installed: run deploy/install-system-packages.sh")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="Run a clamd with a test signature DB.")
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    clamd = Clamd(args.directory.resolve(), {})
    clamd.start()
    print(f"ready: {clamd.socket_path} {clamd.tcp_address}", flush=True)
    try:
        while clamd.running():
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        clamd.stop()


if __name__ == "__main__":
    main()
