"""An S3-compatible server on loopback for the tests and the bench: moto's server mode, behind
a small front that does what moto does not.

moto serves the S3 API faithfully but checks no signatures: a presigned URL works whether it
has expired or been altered. The front, a streaming HTTP proxy in front of moto, checks the
SigV4 query signature and expiry of every presigned request (``X-Amz-Signature`` in the
query) the way S3 does, answering ``403 AccessDenied`` ("Request has expired") or ``403
SignatureDoesNotMatch``; SDK requests (``Authorization`` header) pass through as moto takes
them. The front is also where a test makes S3 go away and come back: ``stop_front`` closes
the port and every open connection (moto keeps its objects), ``start_front`` opens it again;
``on_request_bytes`` lets a test act once an upload has sent so many bytes (mid-upload).

    python -m devtools.s3_server --port 19000 --bucket media

prints ``ready: http://127.0.0.1:19000`` and serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import http.client
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import boto3
from botocore.config import Config

from devtools.ports import free_port
from devtools.processes import start_logged, stop_process, wait_until_ready

ACCESS_KEY_ID = "hearth-test-key"
SECRET_ACCESS_KEY = "hearth-test-secret"  # noqa: S105 - moto accepts any credentials
REGION = "us-east-1"
READY_TIMEOUT_S = 60.0
PIECE = 64 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade"}

_Session: Any = boto3.session.Session
_Config: Any = Config


# --- SigV4 query-signature check (what S3 does with a presigned URL) -------------------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def presigned_problem(method: str, raw_path: str, host: str, secret: str,
                      now: float) -> str | None:
    """Why S3 would refuse this presigned request (None: it would serve it)."""
    parts = urlsplit(raw_path)
    query = parse_qsl(parts.query, keep_blank_values=True)
    values = dict(query)
    try:
        signature = values["X-Amz-Signature"]
        credential = values["X-Amz-Credential"]
        stamp = values["X-Amz-Date"]
        expires = int(values["X-Amz-Expires"])
        signed_headers = values["X-Amz-SignedHeaders"]
    except (KeyError, ValueError):
        return "AuthorizationQueryParametersError"
    if values.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        return "AuthorizationQueryParametersError"
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return "AuthorizationQueryParametersError"
    if now > signed_at + expires:
        return "Request has expired"
    scope = credential.split("/", 1)[1] if "/" in credential else ""
    if signed_headers != "host":
        return "SignatureDoesNotMatch"  # our clients sign only the host
    canonical_query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(query)
                               if k != "X-Amz-Signature")
    canonical = "\n".join((method, parts.path, canonical_query, f"host:{host}\n", "host",
                           "UNSIGNED-PAYLOAD"))
    to_sign = "\n".join(("AWS4-HMAC-SHA256", stamp, scope,
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()))
    key = ("AWS4" + secret).encode("utf-8")
    for part in scope.split("/"):
        key = _hmac(key, part)
    expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, signature) else "SignatureDoesNotMatch"


def _refusal(problem: str) -> bytes:
    code = "AccessDenied" if problem == "Request has expired" else problem
    return (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{problem}</Message></Error>").encode()


# --- the front: a streaming proxy to moto ----------------------------------------------------


class _Front(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, owner: S3Server) -> None:
        self.owner = owner
        self.open_sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def cut_all(self) -> None:
        with self.lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small answers leave at once, not after a delayed ACK
    server: _Front

    def log_message(self, format: str, *args: Any) -> None:  # the base class's names
        return

    def _body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            pieces: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(pieces)
                pieces.append(self.rfile.read(size))
                self.rfile.readline()
        return None

    def _proxy(self) -> None:
        owner = self.server.owner
        if "X-Amz-Signature=" in self.path and "Authorization" not in self.headers:
            problem = presigned_problem(self.command, self.path, self.headers.get("Host", ""),
                                        owner.secret_access_key, time.time())
            if problem is not None:
                owner.refused_presigned += 1
                body = _refusal(problem)
                self.send_response(403)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        upstream = http.client.HTTPConnection("127.0.0.1", owner.moto_port, timeout=120)
        try:
            self._forward(upstream)
        finally:
            upstream.close()

    def _forward(self, upstream: http.client.HTTPConnection) -> None:
        owner = self.server.owner
        chunked = self._body()
        length = len(chunked) if chunked is not None else int(
            self.headers.get("Content-Length", "0") or 0)
        upstream.putrequest(self.command, self.path, skip_host=True,
                            skip_accept_encoding=True)
        for name, value in self.headers.items():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                upstream.putheader(name, value)
        upstream.putheader("Content-Length", str(length))
        upstream.endheaders()
        if chunked is not None:
            upstream.send(chunked)
            owner.count_request_bytes(len(chunked))
        left = 0 if chunked is not None else length
        while left > 0:
            piece = self.rfile.read(min(PIECE, left))
            if not piece:
                raise ConnectionError("the client went away mid-request")
            upstream.send(piece)
            left -= len(piece)
            owner.count_request_bytes(len(piece))
        answer = upstream.getresponse()
        self.send_response(answer.status, answer.reason)
        known_length = answer.getheader("Content-Length")
        for name, value in answer.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() not in ("date", "server"):
                self.send_header(name, value)
        if known_length is None and self.command != "HEAD":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return
        while piece := answer.read(PIECE):
            self.wfile.write(piece)

    def _serve(self) -> None:
        try:
            self._proxy()
        except (ConnectionError, OSError, http.client.HTTPException):
            self.close_connection = True

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve  # http.server's names


class S3Server:
    """moto on one port, the checking front on another; ``endpoint_url`` is the front's."""

    def __init__(self, workdir: Path, port: int = 0,
                 access_key_id: str = ACCESS_KEY_ID,
                 secret_access_key: str = SECRET_ACCESS_KEY) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.moto_port = free_port()
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.refused_presigned = 0
        self.request_bytes = 0
        self._process: Any = None
        self._front: _Front | None = None
        self._front_thread: threading.Thread | None = None
        self._byte_hooks: list[tuple[int, Callable[[], None]]] = []
        self._lock = threading.Lock()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._front is not None

    def start(self) -> None:
        """Start moto, wait until it answers, then open the front."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                str(self.moto_port)]
        self._process = start_logged(argv, self.workdir / "moto.log", self.workdir)
        url = f"http://127.0.0.1:{self.moto_port}/moto-api/"
        if not wait_until_ready(self._process, lambda: _answers(url), READY_TIMEOUT_S):
            log = (self.workdir / "moto.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"moto did not start on port {self.moto_port}: {log}")
        self.start_front()

    def start_front(self) -> None:
        """Open the front's port (again): S3 is reachable."""
        if self._front is not None:
            return
        self._front = _Front(self.port, self)
        self._front_thread = threading.Thread(target=self._front.serve_forever,
                                              name="s3-front", daemon=True)
        self._front_thread.start()

    def stop_front(self) -> None:
        """Close the front's port and cut every open connection: S3 has gone away (moto
        keeps what it holds)."""
        front, self._front = self._front, None
        if front is None:
            return
        front.shutdown()
        front.server_close()
        front.cut_all()

    def stop(self) -> None:
        self.stop_front()
        if self._process is not None:
            stop_process(self._process, 10)
            self._process = None

    def on_request_bytes(self, count: int, action: Callable[[], None]) -> None:
        """Call ``action`` (from the proxy's thread) once requests have sent ``count`` more
        body bytes."""
        with self._lock:
            self._byte_hooks.append((self.request_bytes + count, action))

    def count_request_bytes(self, count: int) -> None:
        with self._lock:
            self.request_bytes += count
            due = [action for limit, action in self._byte_hooks if self.request_bytes >= limit]
            self._byte_hooks = [(lim, act) for lim, act in self._byte_hooks
                                if self.request_bytes < lim]
        for action in due:
            action()

    def client(self) -> Any:
        """A boto3 S3 client of this server (through the front)."""
        session = _Session(aws_access_key_id=self.access_key_id,
                           aws_secret_access_key=self.secret_access_key, region_name=REGION)
        return session.client("s3", endpoint_url=self.endpoint_url,
                              config=_Config(signature_version="s3v4"))

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def write_credentials(self, directory: Path) -> tuple[Path, Path]:
        """Files holding the access key ID and secret, as hearth's settings name them."""
        directory.mkdir(parents=True, exist_ok=True)
        key_id, secret = directory / "s3_access_key_id", directory / "s3_secret_access_key"
        key_id.write_text(self.access_key_id + "\n")
        secret.write_text(self.secret_access_key + "\n")
        return key_id, secret


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bucket", action="append", default=[])
    parser.add_argument("--workdir", type=Path, default=Path(".s3-server"))
    args = parser.parse_args()
    server = S3Server(args.workdir, args.port)
    server.start()
    for bucket in args.bucket:
        server.create_bucket(bucket)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    print(f"ready: {server.endpoint_url}", flush=True)
    try:
        stopping.wait()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
