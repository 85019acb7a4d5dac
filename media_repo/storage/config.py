"""The storage provider's config (``media_storage_providers[].config``), parsed once (frozen).

Rendered by hearth from ``media.*`` settings (hearth/render.py ``media_storage_config``); a bad
value stops Synapse's start with the key's path, like every other module config. Credentials
and the encryption key are read from their files here, so a missing or malformed file is a
config error at start, not a failed upload later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr

from hearth.configuration.errors import ConfigError
from hearth.configuration.module_config import FrozenConfig, parse_module_config
from hearth.configuration.types import ServerName
from hearth.media_repo.storage.encryption import KeyFileError, load_key
from hearth.media_repo.storage.filesystem import FilesystemObjectStore
from hearth.media_repo.storage.objects import ObjectStore
from hearth.media_repo.storage.s3 import S3Location, S3ObjectStore

SECTION = "media_storage_providers.config"


def _read_secret(path: str, what: str) -> str:
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Error in configuration at '{SECTION}': cannot read the {what} "
                          f"file {path}: {exc}") from None
    if not value:
        raise ConfigError(f"Error in configuration at '{SECTION}': the {what} file {path} "
                          "is empty")
    return value


class StorageConfig(FrozenConfig):
    """Where objects go and how the local media store is kept."""

    backend: Literal["s3", "filesystem"]
    server_name: ServerName
    media_store_path: str = Field(min_length=1)
    endpoint_url: str = ""
    bucket: str = ""
    region: str = "us-east-1"
    prefix: str = ""
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    access_key_id_file: str = ""
    secret_access_key_file: str = ""
    directory: str = ""
    encryption_key_file: str = ""
    local_cache_max_bytes: int = Field(default=2 * 1024**3, ge=0, strict=True)
    reconcile_interval_ms: int = Field(default=600_000, ge=1000, strict=True)
    orphan_grace_ms: int = Field(default=3_600_000, ge=0, strict=True)
    _key: bytes | None = PrivateAttr(default=None)
    _credentials: tuple[str, str] = PrivateAttr(default=("", ""))

    @property
    def encryption_key(self) -> bytes | None:
        return self._key

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> StorageConfig:
        config = parse_module_config(cls, raw, SECTION)
        config._check()
        if config.encryption_key_file:
            try:
                config._key = load_key(config.encryption_key_file)
            except KeyFileError as exc:
                raise ConfigError(f"Error in configuration at '{SECTION}.encryption_key_file':"
                                  f" {exc}") from None
        if config.access_key_id_file:
            config._credentials = (
                _read_secret(config.access_key_id_file, "S3 access key ID"),
                _read_secret(config.secret_access_key_file, "S3 secret access key"))
        return config

    def _check(self) -> None:
        def bad(key: str, problem: str) -> ConfigError:
            return ConfigError(f"Error in configuration at '{SECTION}.{key}': {problem}")

        if self.backend == "s3" and not self.bucket:
            raise bad("bucket", "missing, expected the bucket's name (backend is s3)")
        if self.backend == "filesystem" and not self.directory:
            raise bad("directory", "missing, expected a directory (backend is filesystem)")
        if bool(self.access_key_id_file) != bool(self.secret_access_key_file):
            raise bad("secret_access_key_file" if self.access_key_id_file
                      else "access_key_id_file",
                      "give both credential files, or neither (boto3's default chain)")
        if self.backend == "filesystem":
            objects, cache = Path(self.directory).resolve(), Path(self.media_store_path).resolve()
            if objects == cache or objects.is_relative_to(cache) or cache.is_relative_to(objects):
                raise bad("directory", f"got {self.directory!r}, which overlaps the media store "
                          f"{self.media_store_path!r} (its files are evicted): use a directory "
                          "of its own")
        if self.prefix.startswith("/") or ".." in self.prefix.split("/"):
            raise bad("prefix", f"got {self.prefix!r}, expected a key prefix such as hearth/")

    def object_store(self) -> ObjectStore:
        """The backend this config names (no network access yet)."""
        if self.backend == "filesystem":
            return FilesystemObjectStore(self.directory)
        access_key_id, secret = self._credentials
        return S3ObjectStore(S3Location(
            bucket=self.bucket, endpoint_url=self.endpoint_url, region=self.region,
            addressing_style=self.addressing_style, access_key_id=access_key_id,
            secret_access_key=secret))
