"""render_media_edge_config: the media edge's nginx server from its few parameters, refusing
anything that would not be a safe nginx config. Behaviour in a real nginx:
tests/integration/hearth/test_media_edge_nginx.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hearth.render import render_media_edge_config
from hearth.settings import SettingsError

SECRET = "a" * 32


def _edge(**changes: object) -> str:
    arguments: dict[str, object] = {"listen_port": 8450, "s3_endpoint": "http://127.0.0.1:9000",
                                    "bucket": "media", "cache_dir": Path("/srv/cache"),
                                    "secret": SECRET}
    arguments.update(changes)
    return render_media_edge_config(**arguments)  # type: ignore[arg-type]


def test_secret_from_file_without_newline(tmp_path: Path) -> None:
    """A secret file's text (its trailing newline dropped) is the secret nginx hashes with."""
    secret_file = tmp_path / "media_url_key"
    secret_file.write_text("b" * 40 + "\n")
    text = _edge(secret="", secret_file=secret_file)
    assert f'secure_link_md5 "$secure_link_expires$uri {"b" * 40}";' in text


def test_cache_keyed_by_object_not_signature() -> None:
    """The cache key names the bucket, prefix and key (and slice), never the query string
    carrying the signature."""
    keys = re.findall(r'proxy_cache_key "([^"]+)";', _edge(prefix="hearth/"))
    assert keys == ["media/hearth/$hearth_edge_key $slice_range",
                    "media/hearth/$hearth_edge_key whole"]


def test_path_style_request_to_the_store() -> None:
    """Objects are fetched path-style, <endpoint>/<bucket>/<prefix><key>, with the store's
    own Host header."""
    text = _edge(s3_endpoint="http://store.internal:9000", prefix="p/")
    assert "server store.internal:9000;" in text
    assert "proxy_pass http://hearth_media_store/media/p/$hearth_edge_key;" in text
    assert "proxy_set_header Host store.internal:9000;" in text


def test_https_store_verified() -> None:
    """An https endpoint without a port is reached on 443 with its certificate checked."""
    text = _edge(s3_endpoint="https://s3.eu-west-1.amazonaws.com")
    assert "server s3.eu-west-1.amazonaws.com:443;" in text
    assert "proxy_ssl_verify on;" in text
    assert "proxy_ssl_name s3.eu-west-1.amazonaws.com;" in text


def test_tls_listener_for_nginx_122() -> None:
    """With a certificate the edge listens with TLS and HTTP/2 the way nginx 1.22 accepts
    (``listen ... ssl http2``, no ``http2 on;``)."""
    text = _edge(tls=(Path("/etc/ssl/edge.pem"), Path("/etc/ssl/edge.key")))
    directives = [line.split("#")[0] for line in text.splitlines()]
    assert "    listen 8450 ssl http2;" in directives
    assert not [line for line in directives if "http2 on" in line]


@pytest.mark.parametrize(("name", "value"), [
    ("bucket", "Media"), ("bucket", "a"), ("bucket", "media/../other"),
    ("prefix", "../"), ("prefix", "/abs/"), ("prefix", "a//b/"), ("prefix", "a/./b/"),
    ("prefix", "a b/"), ("secret", ""), ("secret", "short"), ("secret", 'x" ; deny all; "' * 2),
    ("secret", "$uri" * 8), ("s3_endpoint", "ftp://store:21"), ("s3_endpoint", "http://store/base"),
    ("s3_endpoint", "http://user:pw@store"), ("s3_endpoint", "store:9000"),
    ("listen_port", 0), ("listen_port", 70000),
])
def test_unsafe_parameters_refused(name: str, value: object) -> None:
    """A parameter that nginx would misread (or that would leave the bucket's prefix) is
    refused with the parameter's name, before anything is written."""
    with pytest.raises(SettingsError, match=name):
        _edge(**{name: value})
