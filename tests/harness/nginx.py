"""A real nginx for the proxy tests: an unprivileged port, a prefix of its own, a test certificate.

The rendered proxy config is a fragment for nginx's ``http {}`` block (deploy/templates/
nginx.conf.j2); this wraps it in the smallest main config whose every path (pid, logs, temp
files) lies under the prefix, so nothing of the machine's own nginx is touched.
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devtools.processes import start_logged, stop_process, wait_until_ready

MAIN_CONFIG = """\
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/temp/body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    include {site};
}}
"""


def nginx_binary() -> str:
    """The nginx executable; deploy/system-packages.txt installs it (a clean machine has it
    after ``deploy/install-system-packages.sh``), so its absence is a failure, not a skip."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    assert found, "nginx is not installed: run deploy/install-system-packages.sh"
    return found


def self_signed_certificate(directory: Path, names: tuple[str, ...]) -> tuple[Path, Path]:
    """A certificate (and its key) for ``names`` (DNS names or IP addresses), signed by itself."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "proxy.pem", directory / "proxy.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def running_nginx(prefix: Path, site_config: Path, port: int) -> Iterator[None]:
    """nginx in the foreground serving ``site_config`` (a ``http {}`` fragment) on ``port``;
    the config is checked with ``nginx -t`` first so a refusal comes with nginx's reason."""
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    main_config = prefix / "nginx.conf"
    main_config.write_text(MAIN_CONFIG.format(prefix=prefix, site=site_config))
    base = [nginx_binary(), "-p", str(prefix), "-c", str(main_config),
            "-e", str(prefix / "error.log")]
    checked = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30,
                             check=False)
    assert checked.returncode == 0, f"nginx refuses the rendered config:\n{checked.stderr}"
    process = start_logged([*base, "-g", "daemon off;"], prefix / "nginx.out", prefix)
    try:
        assert wait_until_ready(process, lambda: _accepts(port), 30), (
            f"nginx did not listen on {port}:\n{(prefix / 'nginx.out').read_text()}")
        yield
    finally:
        stop_process(process, 20)
