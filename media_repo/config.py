"""The media pipeline's module config, parsed once when Synapse loads the module.

Rendered by ``hearth render`` from the ``media`` settings (hearth/settings.py); every value is
checked here so a bad one stops Synapse's start naming ``media_repo.<key>``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from hearth.configuration.module_config import FrozenConfig, parse_module_config


class ScanConfig(FrozenConfig):
    """clamd before media becomes downloadable."""

    enabled: bool = False
    clamd: str = "/run/clamav/clamd.ctl"
    timeout_ms: int = Field(default=30_000, ge=100)
    on_unavailable: Literal["refuse", "allow"] = "refuse"


class DownloadConfig(FrozenConfig):
    """Redirects of ``allow_redirect=true`` downloads to short-lived signed URLs."""

    redirects: bool = True
    cdn_base_url: str = ""
    url_key_path: str = ""
    url_lifetime_ms: int = Field(default=300_000, ge=1000, le=7 * 24 * 3600 * 1000)


class MediaRepoConfig(FrozenConfig):
    """Everything the upload and download fronts need."""

    server_name: str
    derived_dir: str = ""
    quarantine_dir: str = ""
    allowed_types: tuple[str, ...] = ("*",)
    max_upload_size: int = Field(default=50 * 1024 * 1024, ge=1)
    max_image_pixels: int = Field(default=32 * 1024 * 1024, ge=1)
    max_image_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    processing_timeout_ms: int = Field(default=20_000, ge=100)
    processing_memory: int = Field(default=1 << 30, ge=64 * 1024 * 1024)
    max_video_duration_ms: int = Field(default=6 * 3600 * 1000, ge=1000)
    video_containers: tuple[str, ...] = ()
    video_codecs: tuple[str, ...] = ()
    audio_codecs: tuple[str, ...] = ()
    scan: ScanConfig = ScanConfig()
    storage: Literal["local", "s3"] = "local"
    download: DownloadConfig = DownloadConfig()


def parse_config(raw: Any) -> MediaRepoConfig:
    """``raw`` as Synapse hands it to the module, or Synapse's ConfigError naming the key."""
    return parse_module_config(MediaRepoConfig, raw, "media_repo")
