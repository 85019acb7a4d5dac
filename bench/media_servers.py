"""The processes of a media run besides the core suite's: vanilla and ours with a raised upload
limit (the video is 100 MB, both servers' default limit 50M), ours with object storage, the
S3 stand-in (devtools/s3_server.py as a process) and the nginx media edge."""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.postgres import Database
from bench.servers import OursServer, VanillaServer
from bench.servers.base import tail
from devtools.ports import free_port
from devtools.processes import printed_line, start_logged, stop_process, wait_until_ready
from devtools.s3_server import S3Server
from hearth.private_files import write_private
from hearth.render import PROJECT_DIR, render_media_edge_config

MAX_UPLOAD = "200M"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


class VanillaMedia(VanillaServer):
    """Vanilla Synapse with ``max_upload_size`` raised to ``MAX_UPLOAD``."""

    def patch(self, config: dict[str, Any]) -> dict[str, Any]:
        patched = super().patch(config)
        patched["max_upload_size"] = MAX_UPLOAD
        return patched

    @property
    def media_store(self) -> Path:
        return self.data_dir / "media_store"


class OursMedia(OursServer):
    """``hearth run`` (dev profile, every module, the media pipeline) with ``media.
    max_upload_size`` raised, its own supervisor port (several run at once) and ``settings``."""

    def __init__(self, name: str, data_dir: Path, port: int, database: Database | None,
                 settings: tuple[str, ...] = ()) -> None:
        super().__init__(data_dir, port, free_port(), database)
        self.name = name
        self.settings = (f"metrics.supervisor_port={free_port()}",
                         f"media.max_upload_size={MAX_UPLOAD}", *settings)

    def command(self, policy: Path | None) -> list[str]:
        argv = super().command(policy)
        for assignment in self.settings:
            argv += ["--set", assignment]
        return argv

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/_synapse/metrics"

    @property
    def media_store(self) -> Path:
        return self.data_dir / "media_store"


class S3StandIn:
    """``python -m devtools.s3_server`` (moto behind its signature-checking front) as a
    process of its own, so its work does not compete with the load generator's event loop."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.output_file = directory / "s3-server.out"
        # Its client, bucket and credential helpers, for the process started below.
        self.api = S3Server(directory, self.port)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return self.api.endpoint_url

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        self.process = start_logged(
            [sys.executable, "-m", "devtools.s3_server", "--port", str(self.port),
             "--workdir", str(self.directory / "moto")], self.output_file, PROJECT_DIR)
        if not wait_until_ready(self.process, lambda: printed_line(self.output_file, "ready:"),
                                READY_TIMEOUT_S):
            self.stop()
            raise RuntimeError(f"the S3 stand-in did not start:\n{tail(self.output_file)}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, STOP_TIMEOUT_S)

    def bucket(self, name: str, public: bool = False) -> str:
        """A new bucket; ``public``: anyone may read its objects (the edge fetches without
        credentials and checks the signed URLs itself)."""
        self.api.create_bucket(name)
        if public:
            policy = {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{name}/*"}]}
            self.api.client().put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
        return name

    def settings(self, bucket: str) -> tuple[str, ...]:
        """hearth settings that store a server's media in ``bucket``."""
        key_id, secret = self.api.write_credentials(self.directory / "credentials")
        return ("media.storage=s3", f"media.s3.endpoint_url={self.endpoint_url}",
                f"media.s3.bucket={bucket}", f"media.s3.access_key_id_file={key_id}",
                f"media.s3.secret_access_key_file={secret}")


NGINX_MAIN = """\
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/temp/body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    include {site};
}}
"""


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class MediaEdge:
    """nginx serving the media edge's rendered site (hearth.render.render_media_edge_config)
    in front of ``bucket``, every path of it under ``directory`` (which nginx's unprivileged
    workers must be able to enter)."""

    def __init__(self, directory: Path, s3_endpoint: str, bucket: str) -> None:
        self.directory = directory
        self.s3_endpoint = s3_endpoint
        self.bucket = bucket
        self.port = free_port()
        self.secret_file = directory / "media_url_key"
        write_private(self.secret_file, secrets.token_urlsafe(48) + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def server_settings(self) -> tuple[str, ...]:
        """hearth settings that send ``allow_redirect`` downloads here, signed with the key
        the edge checks."""
        return (f"media.download.cdn_base_url={self.base_url}",
                f"secrets.media_url_key_file={self.secret_file}")

    def start(self) -> None:
        nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
        if nginx is None:
            raise RuntimeError("nginx is not installed: run deploy/install-system-packages.sh")
        prefix = self.directory / "nginx"
        (prefix / "temp").mkdir(parents=True, exist_ok=True)
        site = self.directory / "media-edge.conf"
        write_private(site, render_media_edge_config(
            self.port, self.s3_endpoint, self.bucket, self.directory / "cache",
            secret_file=self.secret_file))
        main = prefix / "nginx.conf"
        main.write_text(NGINX_MAIN.format(prefix=prefix, site=site), encoding="utf-8")
        base = [nginx, "-p", str(prefix), "-c", str(main), "-e", str(prefix / "error.log")]
        checked = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30,
                                 check=False)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx refuses the rendered edge config:\n{checked.stderr}")
        self.process = start_logged([*base, "-g", "daemon off;"], prefix / "nginx.out", prefix)
        if not wait_until_ready(self.process, lambda: _accepts(self.port), READY_TIMEOUT_S):
            self.stop()
            raise RuntimeError(f"nginx did not listen on {self.port}:\n"
                               f"{tail(prefix / 'nginx.out')}\n{tail(prefix / 'error.log')}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, STOP_TIMEOUT_S)
