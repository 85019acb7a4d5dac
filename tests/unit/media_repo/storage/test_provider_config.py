"""The provider's config as hearth renders it: accepted, or refused naming the key."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest

from hearth.configuration.errors import ConfigError
from hearth.media_repo.storage.filesystem import FilesystemObjectStore
from hearth.media_repo.storage.provider import ObjectStorageProvider
from hearth.media_repo.storage.s3 import S3ObjectStore


def rendered(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    """The dict hearth/render.py media_storage_config writes for media.storage=s3."""
    config: dict[str, Any] = {
        "backend": "s3", "endpoint_url": "http://127.0.0.1:9000", "bucket": "media",
        "region": "us-east-1", "prefix": "hearth/", "addressing_style": "auto",
        "access_key_id_file": "", "secret_access_key_file": "", "directory": "",
        "encryption_key_file": "", "media_store_path": str(tmp_path / "media_store"),
        "local_cache_max_bytes": 2 * 1024**3, "reconcile_interval_ms": 600_000,
        "orphan_grace_ms": 3_600_000, "server_name": "example.org"}
    config.update(changes)
    return config


def test_provider_config_rendered_by_hearth_parses(tmp_path: Path) -> None:
    """Every key hearth renders is understood; the backend is S3."""
    config = ObjectStorageProvider.parse_config(rendered(tmp_path))
    assert isinstance(config.object_store(), S3ObjectStore)
    assert (config.prefix, config.local_cache_max_bytes, config.encryption_key) == (
        "hearth/", 2 * 1024**3, None)


def test_provider_config_reads_the_key_and_credential_files(tmp_path: Path) -> None:
    """The encryption key and both credential files are read at start."""
    key, key_id, secret = tmp_path / "key", tmp_path / "id", tmp_path / "secret"
    raw_key = os.urandom(32)
    key.write_text(base64.b64encode(raw_key).decode())
    key_id.write_text("AKIA\n")
    secret.write_text("s3cr3t\n")
    config = ObjectStorageProvider.parse_config(rendered(
        tmp_path, encryption_key_file=str(key), access_key_id_file=str(key_id),
        secret_access_key_file=str(secret)))
    assert config.encryption_key == raw_key
    assert config._credentials == ("AKIA", "s3cr3t")


def test_provider_config_filesystem_backend(tmp_path: Path) -> None:
    """backend filesystem stores under directory."""
    config = ObjectStorageProvider.parse_config(rendered(
        tmp_path, backend="filesystem", bucket="", directory=str(tmp_path / "objects")))
    assert isinstance(config.object_store(), FilesystemObjectStore)


@pytest.mark.parametrize(("changes", "where"), [
    ({"bucket": ""}, "config.bucket"),
    ({"backend": "filesystem", "directory": ""}, "config.directory"),
    ({"backend": "gcs"}, "config.backend"),
    ({"access_key_id_file": "/x"}, "config.secret_access_key_file"),
    ({"prefix": "../up"}, "config.prefix"),
    ({"orphan_grace_ms": -1}, "config.orphan_grace_ms"),
    ({"unknown": 1}, "config.unknown"),
    ({"encryption_key_file": "/nonexistent/key"}, "config.encryption_key_file"),
])
def test_provider_config_refusals_name_the_key(tmp_path: Path, changes: dict[str, Any],
                                               where: str) -> None:
    """A bad value stops Synapse's start with the key's path."""
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        ObjectStorageProvider.parse_config(rendered(tmp_path, **changes))


def test_provider_config_filesystem_directory_inside_the_media_store_refused(
        tmp_path: Path) -> None:
    """Objects kept inside the media store would be evicted as cache: refused."""
    with pytest.raises(ConfigError, match="overlaps the media store"):
        ObjectStorageProvider.parse_config(rendered(
            tmp_path, backend="filesystem", bucket="",
            directory=str(tmp_path / "media_store" / "objects")))


def test_provider_config_unreadable_credentials_refused(tmp_path: Path) -> None:
    """A credential file that is not there is a config error, not a failed upload later."""
    with pytest.raises(ConfigError, match="cannot read the S3 access key ID file"):
        ObjectStorageProvider.parse_config(rendered(
            tmp_path, access_key_id_file=str(tmp_path / "nope"),
            secret_access_key_file=str(tmp_path / "nope2")))
