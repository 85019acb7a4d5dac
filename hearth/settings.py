"""Typed settings for rendering ``homeserver.yaml.j2``.

Every value the template uses is declared here once, with its type, default and limits, so
a bad value is refused before anything starts, in one line naming the key, the value and
what is expected. Sources, later ones winning: the profile's defaults
(``config/profiles/<profile>.yaml``), the data directory's ``settings.yaml``, environment
variables ``HEARTH__SECTION__KEY``, and ``--set section.key=value`` on the command line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hearth.configuration.errors import SettingsError as SettingsError
from hearth.configuration.errors import describe
from hearth.configuration.loader import deep_merge as deep_merge
from hearth.configuration.loader import load_sources
from hearth.configuration.types import (
    ByteSizeText,
    Duration,
    IpNetworkText,
    Localpart,
    NonEmptyText,
    Port,
    RoleName,
    ServerName,
    duration_ms,
)

ENV_PREFIX = "HEARTH__"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class ServerSettings(_Section):
    """Identity and listeners of the homeserver."""

    name: ServerName = "localhost"
    public_baseurl: str = Field(default="", pattern=r"^(https?://.+/)?$")
    bind_address: str = "127.0.0.1"
    port: Port = 8008
    federation: bool = False
    report_stats: bool = False
    admin_contact: str = ""
    # Proxies allowed to set X-Forwarded-For (Synapse's listener honours it only when set).
    trusted_proxies: tuple[IpNetworkText, ...] = ()


class DatabaseSettings(_Section):
    """Where Synapse keeps its data: embedded SQLite or PostgreSQL."""

    engine: Literal["sqlite", "postgres"] = "sqlite"
    sqlite_path: str = "homeserver.db"
    host: str = "127.0.0.1"
    port: Port = 5432
    user: str = "synapse"
    password: str = ""
    name: str = "synapse"
    cp_min: int = Field(default=5, ge=1, le=100)
    cp_max: int = Field(default=10, ge=1, le=100)

    @model_validator(mode="after")
    def _pool_order(self) -> DatabaseSettings:
        if self.cp_min > self.cp_max:
            raise ValueError(f"cp_min ({self.cp_min}) must not exceed cp_max ({self.cp_max})")
        return self


class RedisSettings(_Section):
    """Redis carries replication between Synapse processes (needed for workers)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: Port = 6379
    dbid: int = Field(default=0, ge=0, le=15)
    password: str = ""


class EmailSettings(_Section):
    """SMTP used for password recovery and e-mail verification."""

    enabled: bool = True
    smtp_host: str = "127.0.0.1"
    smtp_port: Port = 25
    smtp_user: str = ""
    smtp_pass: str = ""
    require_transport_security: bool = False
    enable_tls: bool = True
    notif_from: str = "%(app)s homeserver <noreply@localhost>"
    app_name: str = "Hearth"
    validation_token_lifetime: Duration = "1h"  # noqa: S105 - a duration, not a secret


class AuthSettings(_Section):
    """Registration, login protection and token lifetimes (requirements: 5 failures, <24h, <12h)."""

    registration_enabled: bool = False
    registration_requires_verification: bool = True
    failed_login_limit: int = Field(default=5, ge=1, le=1000)
    failed_login_recovery_per_second: float = Field(default=0.003, gt=0, le=100)
    refreshable_access_token_lifetime: Duration = "15m"  # noqa: S105 - a duration
    refresh_token_lifetime: Duration = "11h"  # noqa: S105 - a duration
    session_lifetime: Duration = "11h"
    password_min_length: int = Field(default=10, ge=6, le=128)
    password_require_digit: bool = True
    password_require_lowercase: bool = True
    password_require_uppercase: bool = False
    password_require_symbol: bool = False
    allow_guest_access: bool = False

    @model_validator(mode="after")
    def _lifetimes_consistent(self) -> AuthSettings:
        access = duration_ms(self.refreshable_access_token_lifetime)
        session = duration_ms(self.session_lifetime)
        if access > session:
            raise ValueError(
                f"refreshable_access_token_lifetime ({self.refreshable_access_token_lifetime}) "
                f"must not exceed session_lifetime ({self.session_lifetime})"
            )
        return self


class RateLimitSettings(_Section):
    """Synapse's own limiters, kept on as the floor under the policy modules."""

    message_per_second: float = Field(default=0.2, gt=0)
    message_burst: int = Field(default=10, ge=1)
    registration_per_second: float = Field(default=0.17, gt=0)
    registration_burst: int = Field(default=3, ge=1)
    login_per_second: float = Field(default=0.17, gt=0)
    login_burst: int = Field(default=3, ge=1)


class S3Settings(_Section):
    """An S3-compatible bucket (AWS, MinIO, R2, B2, ...): media objects go straight there."""

    endpoint_url: str = ""  # empty: AWS's own endpoint for the region
    bucket: str = ""
    region: str = "us-east-1"
    prefix: str = ""  # key prefix inside the bucket, e.g. "hearth/"
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    # Files holding the credentials; empty: the usual AWS environment / instance profile.
    access_key_id_file: str = ""
    secret_access_key_file: str = ""


class MediaScanSettings(_Section):
    """Malware scanning with ClamAV's clamd before media becomes downloadable."""

    enabled: bool = False
    # clamd's socket: a path (unix socket) or host:port (TCP).
    clamd: str = "/run/clamav/clamd.ctl"
    timeout: Duration = "30s"
    # When clamd cannot be reached or does not answer: refuse the upload (fail closed) or let
    # it through unscanned (logged and counted).
    on_unavailable: Literal["refuse", "allow"] = "refuse"


class MediaDownloadSettings(_Section):
    """How downloads leave: streamed by Synapse, or a 307 to a short-lived signed URL."""

    # Answer allow_redirect=true with a 307 when the file is in object storage.
    redirects: bool = True
    # A CDN/edge in front of the bucket that checks nginx secure_link signatures; empty:
    # redirect to the object store's own presigned URL.
    # Signed with secrets.media_url_key_file (generated once in <data>/secrets).
    cdn_base_url: str = ""
    url_lifetime: Duration = "5m"


class MediaSettings(_Section):
    """Uploads: limits, processing, scanning and storage (media_repo/, docs/media.md)."""

    max_upload_size: ByteSizeText = "50M"
    max_image_pixels: ByteSizeText = "32M"
    url_previews: bool = False
    enable_authenticated_media: bool = True
    # Our upload pipeline (type from content, allow-lists, metadata stripping, processing,
    # scanning); off leaves Synapse's media repository as it is.
    processing: bool = True
    # Types anyone may upload unless their role's media.allowed_types says otherwise (MIME
    # globs, matched against the type read from the content). application/octet-stream is
    # what end-to-end encrypted attachments look like: opaque bytes.
    allowed_types: tuple[NonEmptyText, ...] = (
        "image/jpeg", "image/png", "image/gif", "image/webp", "image/avif",
        "video/mp4", "video/quicktime", "video/webm", "video/x-matroska",
        "audio/mpeg", "audio/mp4", "audio/ogg", "audio/webm", "audio/wav", "audio/flac",
        "application/pdf", "text/plain", "application/zip", "application/octet-stream",
    )
    # Decoding limits (a separate process per file, killed past these).
    max_image_bytes: ByteSizeText = "100M"  # decoded pixel buffer
    processing_timeout: Duration = "20s"
    processing_memory: ByteSizeText = "1G"
    max_video_duration: Duration = "6h"
    video_containers: tuple[NonEmptyText, ...] = ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm",
                                                  "ogg", "mp3", "wav", "flac")
    video_codecs: tuple[NonEmptyText, ...] = ("h264", "hevc", "vp8", "vp9", "av1", "mpeg4",
                                              "theora")
    audio_codecs: tuple[NonEmptyText, ...] = ("aac", "opus", "vorbis", "mp3", "flac",
                                              "pcm_s16le", "pcm_s24le", "pcm_f32le", "alac")
    scan: MediaScanSettings = MediaScanSettings()
    # Where files live: the data directory, or an S3-compatible bucket.
    storage: Literal["local", "s3"] = "local"
    s3: S3Settings = S3Settings()
    # With S3: the most the local media store keeps as a cache (least recently used go).
    local_cache_max: ByteSizeText = "2G"
    # At-rest encryption of stored objects (AES-256-GCM); a file holding 32 random bytes
    # (base64). Empty: objects are stored as they are.
    encryption_key_file: str = ""
    # How often the reconciler removes objects no media points at, and how old they must be.
    reconcile_interval: Duration = "10m"
    orphan_grace: Duration = "1h"
    download: MediaDownloadSettings = MediaDownloadSettings()


class SearchSettings(_Section):
    """Server-side message search and the user directory."""

    enabled: bool = True
    user_directory_enabled: bool = True
    user_directory_search_all_users: bool = False


class ConsentSettings(_Section):
    """Terms-of-service consent (Synapse's ``user_consent``), ready to switch on."""

    enabled: bool = False
    version: str = Field(default="1.0", pattern=r"^[A-Za-z0-9._-]+$")
    require_at_registration: bool = True
    block_events_error: str = (
        "To continue using this homeserver you must review and agree to the terms and "
        "conditions at %(consent_uri)s"
    )


class MetricsSettings(_Section):
    """Prometheus endpoint of each Synapse process."""

    enabled: bool = True
    bind_address: str = "127.0.0.1"
    port: Port = 9008
    # `hearth run`'s own hearth_process_* metrics (up, restarts), always on 127.0.0.1.
    supervisor_port: Port = 9007


class LoggingSettings(_Section):
    """Structured log lines, to a file in the data directory."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    structured: bool = True


class ProxySettings(_Section):
    """The TLS-terminating reverse proxy in front of the production profile."""

    enabled: bool = False
    server_name: str = "matrix.example.org"
    tls_certificate: str = "/etc/ssl/certs/hearth.pem"
    tls_certificate_key: str = "/etc/ssl/private/hearth.key"
    listen_port: Port = 443
    admin_allowed_ranges: tuple[IpNetworkText, ...] = ("127.0.0.1/32", "::1/128")


class WorkerSettings(_Section):
    """Synapse worker processes (production profile); each gets its own small config file."""

    generic_workers: int = Field(default=0, ge=0, le=32)
    event_persisters: int = Field(default=0, ge=0, le=8)
    federation_senders: int = Field(default=0, ge=0, le=8)
    media_workers: int = Field(default=0, ge=0, le=4)
    base_port: Port = 8081
    replication_port: Port = 9093


class AddressRuleSettings(_Section):
    """Where accounts of one role may log in from: ``allow`` (empty: anywhere), ``deny``."""

    allow: tuple[IpNetworkText, ...] = ()
    deny: tuple[IpNetworkText, ...] = ()


class LoginSecuritySettings(_Section):
    """Lockout, TOTP second factor and address rules (synapse_modules/login_security).

    The account lockout threshold is ``auth.failed_login_limit``; failures count within
    ``failure_window``. See docs/login-security.md.
    """

    failure_window: Duration = "15m"
    lockout_duration: Duration = "15m"
    # Failures from one client address (over all accounts) before the address is blocked.
    address_failure_limit: int = Field(default=20, ge=1, le=100_000)
    address_lockout_duration: Duration = "15m"
    # Ranges whose failures never block the whole address (e.g. an office NAT).
    address_exempt_ranges: tuple[IpNetworkText, ...] = ()
    # Roles that must use a second factor, and how long they may log in without one.
    # Each must be a role of the access policy file (checked by `hearth render`).
    mfa_required_roles: tuple[RoleName, ...] = ()
    mfa_enrolment_grace: Duration = "7d"
    mfa_issuer: str = Field(default="Hearth", min_length=1, max_length=64)
    # Per role: {allow: [ranges], deny: [ranges]} for logging in.
    ip_rules: dict[RoleName, AddressRuleSettings] = Field(default_factory=dict)


class SecretSettings(_Section):
    """Where secrets come from; empty means generated once in ``<data>/secrets``."""

    signing_key_file: str = ""
    macaroon_secret_key_file: str = ""
    registration_shared_secret_file: str = ""
    form_secret_file: str = ""
    mfa_encryption_key_file: str = ""
    media_url_key_file: str = ""


class ModuleSettings(_Section):
    """This project's Synapse modules."""

    business_metrics: bool = True
    # Login security: lockout, TOTP second factor, address rules (docs/login-security.md).
    login_security: bool = True
    # Access policy: roles, permissions and per-role rate limits (docs/access-policy.md).
    # The policy file is absolute, or relative to the project directory.
    access_policy: bool = True
    access_policy_file: NonEmptyText = "config/policy.yaml"
    # Content guard: refuses malformed m.room.message content (400 M_BAD_JSON) and sanitises
    # formatted_body HTML to the Matrix spec's allow-list. Per-field limits in UTF-8 bytes;
    # Synapse itself refuses whole events over 65536 bytes.
    content_guard: bool = True
    content_max_body_bytes: int = Field(default=32_768, ge=1024, le=65_536)
    content_max_formatted_body_bytes: int = Field(default=49_152, ge=1024, le=65_536)


class AiBotSettings(_Section):
    """The AI bot account: its own process, started by `hearth run` when a model API key is
    set (OPENAI_API_KEY, or ``api_key_file``). Everything else of the bot: ``bot_config``,
    merged into the rendered ``ai-bot.yaml`` (see ai_bot/config.py)."""

    enabled: bool = True
    localpart: Localpart = "ai"
    displayname: str = "AI assistant"
    default_model: str = "gpt-4o"
    # OpenAI-compatible endpoint; empty: OPENAI_BASE_URL, else OpenAI.
    base_url: str = ""
    api_key_file: str = ""
    metrics_port: int = Field(default=9108, ge=0, le=65535, strict=True)
    bot_config: dict[str, Any] = Field(default_factory=dict)


class Settings(_Section):
    """All settings of one rendered deployment."""

    profile: Literal["dev", "production"] = "dev"
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    email: EmailSettings = EmailSettings()
    auth: AuthSettings = AuthSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    media: MediaSettings = MediaSettings()
    search: SearchSettings = SearchSettings()
    consent: ConsentSettings = ConsentSettings()
    metrics: MetricsSettings = MetricsSettings()
    logging: LoggingSettings = LoggingSettings()
    proxy: ProxySettings = ProxySettings()
    workers: WorkerSettings = WorkerSettings()
    secrets: SecretSettings = SecretSettings()
    modules: ModuleSettings = ModuleSettings()
    login_security: LoginSecuritySettings = LoginSecuritySettings()
    ai_bot: AiBotSettings = AiBotSettings()
    # Anything Synapse supports that is not modelled above, deep-merged into the output last.
    synapse_overrides: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        workers = self.workers
        wants_workers = (workers.generic_workers + workers.event_persisters
                         + workers.federation_senders + workers.media_workers) > 0
        if wants_workers and self.database.engine != "postgres":
            raise ValueError("workers need database.engine=postgres (SQLite is single-process)")
        if wants_workers and not self.redis.enabled:
            raise ValueError("workers need redis.enabled=true (replication goes through Redis)")
        if self.metrics.enabled and self.metrics.port == self.server.port:
            raise ValueError(f"metrics.port ({self.metrics.port}) collides with server.port")
        if self.proxy.enabled and not self.server.trusted_proxies:
            raise ValueError("proxy.enabled needs server.trusted_proxies (the proxy's address, "
                             "e.g. [127.0.0.1]) so client addresses come through")
        return self

    @property
    def has_workers(self) -> bool:
        w = self.workers
        return (w.generic_workers + w.event_persisters + w.federation_senders
                + w.media_workers) > 0

    @property
    def baseurl(self) -> str:
        """The public base URL, defaulting to the listener for local use."""
        if self.server.public_baseurl:
            return self.server.public_baseurl
        wildcard = self.server.bind_address in ("0.0.0.0", "::")  # noqa: S104 - comparison only
        host = "127.0.0.1" if wildcard else self.server.bind_address
        return f"http://{host}:{self.server.port}/"


def load_settings(
    profile: str,
    profiles_dir: Path,
    data_dir: Path | None = None,
    assignments: tuple[str, ...] = (),
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Load and validate settings for ``profile`` from every source, later ones winning."""
    profile_file = profiles_dir / f"{profile}.yaml"
    if not profile_file.is_file():
        known = sorted(p.stem for p in profiles_dir.glob("*.yaml"))
        raise SettingsError(f"Invalid profile {profile!r}: expected one of {', '.join(known)}")
    files = [profile_file]
    if data_dir is not None and (data_dir / "settings.yaml").is_file():
        files.append(data_dir / "settings.yaml")
    merged = load_sources({"profile": profile}, files,
                          os.environ if environ is None else environ, ENV_PREFIX, assignments)
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise SettingsError(describe_error(exc)) from None


def describe_error(error: ValidationError) -> str:
    """The first validation problem as one line: key, value, what is expected."""
    key, problem = describe(error)
    if problem == "unknown key":
        problem += " (check the spelling; see docs/settings.md)"
    return f"Invalid setting '{key or '(settings)'}': {problem}"


def settings_reference(settings: Settings) -> str:
    """A Markdown table of every setting with its value in ``settings`` (for docs/settings.md)."""
    lines = [f"# Settings reference (profile `{settings.profile}` values)", "",
             "Generated by `hearth show-settings --markdown`; set any of these with "
             "`--set section.key=value`, `HEARTH__SECTION__KEY=value` or `settings.yaml`.", "",
             "Values share one grammar per kind with the module and bot configs "
             "(hearth/configuration/types.py): durations are a whole number and one unit of "
             "s, m, h, d, w or y (`30s`, `15m`, `7d`); sizes are bytes, optionally with K, M, G "
             "or T (powers of 1024: `512K`, `50M`); role names are a lowercase letter, then up to "
             "63 lowercase letters, digits, `_` or `-`. `hearth render` also checks settings "
             "against each other and the files they name (hearth/crosschecks.py).", ""]
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if not isinstance(value, BaseModel):
            continue
        doc = (type(value).__doc__ or "").strip().splitlines()[0]
        lines += [f"## `{name}`", "", doc, "", "| key | value |", "|---|---|"]
        for key, current in value.model_dump(mode="json").items():
            lines.append(f"| `{name}.{key}` | `{json.dumps(current)}` |")
        lines.append("")
    lines += ["## `synapse_overrides`", "",
              "Any Synapse option not modelled above, deep-merged into homeserver.yaml last.", ""]
    return "\n".join(lines) + "\n"
