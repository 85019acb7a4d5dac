"""Render Synapse's configuration from ``homeserver.yaml.j2`` into a data directory.

Rendering is idempotent: secrets are generated once and kept, and a file whose content did
not change is not rewritten. Everything rendered is written 0600 because the main config
holds the registration shared secret (and, in production, database credentials); the data
directory itself is made private (0700, nothing in it open to others) on every render.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import yaml

from hearth.configuration.loader import deep_merge
from hearth.configuration.types import byte_size, duration_ms
from hearth.crosschecks import (
    PolicyRoles,
    check_bot_config,
    check_login_security_roles,
    check_ports_distinct,
)
from hearth.media_repo.edge_signing import EDGE_PATH_PREFIX, secret_from_file_text
from hearth.private_files import make_tree_private, write_private
from hearth.secret_files import SecretPaths, ensure_secrets
from hearth.settings import Settings, SettingsError

PROJECT_DIR = Path(__file__).resolve().parent.parent
TEMPLATE = PROJECT_DIR / "homeserver.yaml.j2"
PROFILES_DIR = PROJECT_DIR / "config" / "profiles"
LOG_TEMPLATE = PROJECT_DIR / "config" / "log.yaml.j2"
DEPLOY_TEMPLATES = PROJECT_DIR / "deploy" / "templates"


@dataclass(frozen=True)
class ModuleEntry:
    """One of this project's Synapse modules, as listed under ``modules:``."""

    name: str
    path: str
    enabled: bool
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Worker:
    """One Synapse worker process of the production profile."""

    name: str
    kind: str
    port: int
    resources: tuple[str, ...]
    replication_port: int | None
    metrics_port: int | None
    config_file: Path
    log_config: Path

    @property
    def serves_media(self) -> bool:
        """Whether this is the media worker: the shared config turns Synapse's media
        repository off everywhere else, so only this process serves (and processes) media."""
        return self.kind == "media"


@dataclass(frozen=True)
class Rendered:
    """What ``render`` produced: the files a supervisor needs to start the processes."""

    data_dir: Path
    config_file: Path
    log_config: Path
    workers: tuple[Worker, ...]
    proxy_config: Path | None
    secrets: SecretPaths
    settings: Settings
    changed: tuple[Path, ...]
    bot_config: Path | None = None


def _login_security_config(settings: Settings, secrets: SecretPaths | None) -> dict[str, Any]:
    """The login_security module's config (docs/login-security.md)."""
    ls = settings.login_security
    password_config = settings.synapse_overrides.get("password_config") or {}
    return {
        "server_name": settings.server.name,
        "public_baseurl": settings.baseurl,
        # The module checks passwords against Synapse's hashes, so it needs any pepper too.
        "password_pepper": str(password_config.get("pepper", "")),
        "trusted_proxies": list(settings.server.trusted_proxies),
        "lockout": {
            "account_failures": settings.auth.failed_login_limit,
            "address_failures": ls.address_failure_limit,
            "window": ls.failure_window,
            "account_duration": ls.lockout_duration,
            "address_duration": ls.address_lockout_duration,
            "address_exempt": list(ls.address_exempt_ranges),
        },
        "ip_rules": {role: {"allow": list(rule.allow), "deny": list(rule.deny)}
                     for role, rule in ls.ip_rules.items()},
        "mfa": {
            "required_roles": list(ls.mfa_required_roles),
            "enrolment_grace": ls.mfa_enrolment_grace,
            "issuer": ls.mfa_issuer,
            "secret_path": str(secrets.mfa_encryption_key) if secrets else "",
            "template_dir": str(PROJECT_DIR / "config" / "templates" / "mfa"),
        },
    }


def media_storage_config(settings: Settings, data_dir: Path) -> dict[str, Any] | None:
    """The object storage provider's config (media_repo/storage), or None for plain local."""
    media = settings.media
    if media.storage == "local":
        return None
    s3 = media.s3
    return {
        "backend": media.storage, "endpoint_url": s3.endpoint_url, "bucket": s3.bucket,
        "region": s3.region, "prefix": s3.prefix, "addressing_style": s3.addressing_style,
        "access_key_id_file": s3.access_key_id_file,
        "secret_access_key_file": s3.secret_access_key_file, "directory": "",
        "encryption_key_file": media.encryption_key_file,
        "media_store_path": str(data_dir / "media_store"),
        "local_cache_max_bytes": byte_size(media.local_cache_max),
        "reconcile_interval_ms": duration_ms(media.reconcile_interval),
        "orphan_grace_ms": duration_ms(media.orphan_grace),
        "server_name": settings.server.name,
    }


def _media_repo_config(settings: Settings, secrets: SecretPaths | None,
                       data_dir: Path | None) -> dict[str, Any]:
    media = settings.media
    return {
        "server_name": settings.server.name,
        # Derived files (posters, WebP/AVIF thumbnails) and refused files kept for review.
        "derived_dir": str(data_dir / "media_derived") if data_dir else "",
        "quarantine_dir": str(data_dir / "media_quarantine") if data_dir else "",
        "allowed_types": list(media.allowed_types),
        "max_upload_size": byte_size(media.max_upload_size),
        "max_image_pixels": byte_size(media.max_image_pixels),
        "max_image_bytes": byte_size(media.max_image_bytes),
        "processing_timeout_ms": duration_ms(media.processing_timeout),
        "processing_memory": byte_size(media.processing_memory),
        "max_video_duration_ms": duration_ms(media.max_video_duration),
        "video_containers": list(media.video_containers),
        "video_codecs": list(media.video_codecs),
        "audio_codecs": list(media.audio_codecs),
        "scan": {"enabled": media.scan.enabled, "clamd": media.scan.clamd,
                 "timeout_ms": duration_ms(media.scan.timeout),
                 "on_unavailable": media.scan.on_unavailable},
        "storage": media.storage,
        "download": {"redirects": media.download.redirects,
                     "cdn_base_url": media.download.cdn_base_url,
                     "url_key_path": str(secrets.media_url_key) if secrets else "",
                     "url_lifetime_ms": duration_ms(media.download.url_lifetime)},
    }


def _documented_modules(settings: Settings) -> list[str]:
    """The enabled modules that serve HTTP endpoints, so api_docs describes only those."""
    return [name for name, enabled in (("access_policy", settings.modules.access_policy),
                                       ("login_security", settings.modules.login_security),
                                       ("media_repo", settings.media.processing))
            if enabled]


def project_modules(
    settings: Settings, secrets: SecretPaths | None = None, data_dir: Path | None = None
) -> tuple[ModuleEntry, ...]:
    """Every module this project ships, enabled or not per the settings."""
    return (
        ModuleEntry(
            name="business_metrics",
            path="hearth.synapse_modules.business_metrics.BusinessMetricsModule",
            enabled=settings.modules.business_metrics,
            config={"server_name": settings.server.name},
        ),
        ModuleEntry(
            name="access_policy",
            path="hearth.synapse_modules.access_policy.module.AccessPolicyModule",
            enabled=settings.modules.access_policy,
            config={
                "server_name": settings.server.name,
                "policy_file": str(PROJECT_DIR / settings.modules.access_policy_file),
                "max_upload_size": settings.media.max_upload_size,
                # Shared rate-limit counters live in the Redis Synapse replicates over.
                "redis": {"host": settings.redis.host, "port": settings.redis.port,
                          "dbid": settings.redis.dbid, "password": settings.redis.password}
                if settings.redis.enabled else None,
            },
        ),
        ModuleEntry(
            name="login_security",
            path="hearth.synapse_modules.login_security.LoginSecurityModule",
            enabled=settings.modules.login_security,
            config=_login_security_config(settings, secrets),
        ),
        # The OpenAPI description (docs/api.md) of the HTTP endpoints the modules above serve.
        ModuleEntry(
            name="api_docs",
            path="hearth.synapse_modules.api_docs.ApiDocsModule",
            enabled=bool(_documented_modules(settings)),
            config={"documented_modules": _documented_modules(settings)},
        ),
        # The media pipeline (media_repo/): type from content, allow-lists, metadata
        # stripping, processing, scanning, redirects to signed URLs, media info.
        ModuleEntry(
            name="media_repo",
            path="hearth.media_repo.module.MediaRepoModule",
            enabled=settings.media.processing,
            config=_media_repo_config(settings, secrets, data_dir),
        ),
        # Keep content_guard last: Synapse skips the check_event_allowed callbacks after one
        # that rewrites an event, and content_guard rewrites messages with unsafe HTML.
        ModuleEntry(
            name="content_guard",
            path="hearth.synapse_modules.content_guard.ContentGuardModule",
            enabled=settings.modules.content_guard,
            config={
                "server_name": settings.server.name,
                "max_body_bytes": settings.modules.content_max_body_bytes,
                "max_formatted_body_bytes": settings.modules.content_max_formatted_body_bytes,
            },
        ),
    )


def plan_workers(settings: Settings, data_dir: Path) -> tuple[Worker, ...]:
    """Name and number the worker processes; ports count up from ``workers.base_port``."""
    kinds: list[tuple[str, int, tuple[str, ...], bool]] = [
        ("event_persister", settings.workers.event_persisters, ("replication",), True),
        ("generic", settings.workers.generic_workers, ("client", "federation"), False),
        ("federation_sender", settings.workers.federation_senders, (), False),
        # The media worker writes the quarantined-media stream (the quarantine admin APIs run
        # there), so it needs a replication listener and a place in instance_map.
        ("media", settings.workers.media_workers, ("media",), True),
    ]
    workers: list[Worker] = []
    port = settings.workers.base_port
    for kind, count, resources, needs_replication in kinds:
        for index in range(1, count + 1):
            name = f"{kind}{index}"
            http_port = port
            replication_port = port + 1 if needs_replication else None
            port += 2
            workers.append(
                Worker(
                    name=name,
                    kind=kind,
                    port=http_port,
                    resources=resources or ("health",),
                    replication_port=replication_port,
                    metrics_port=(settings.metrics.port + len(workers) + 1
                                  if settings.metrics.enabled else None),
                    config_file=data_dir / "workers" / f"{name}.yaml",
                    log_config=data_dir / "workers" / f"{name}.log.config",
                )
            )
    return tuple(workers)


BOT_METRICS_PORT = "ai_bot.metrics_port"


def ports_needed(settings: Settings) -> list[tuple[str, int, str]]:
    """Every (host, port, what) the deployment will listen on."""
    ports = [(settings.server.bind_address, settings.server.port, "server.port")]
    if settings.metrics.enabled:
        ports.append((settings.metrics.bind_address, settings.metrics.port, "metrics.port"))
        ports.append(("127.0.0.1", settings.metrics.supervisor_port, "metrics.supervisor_port"))
    if settings.has_workers:
        ports.append(("127.0.0.1", settings.workers.replication_port, "workers.replication_port"))
        for worker in plan_workers(settings, Path(".")):
            for worker_port in (worker.port, worker.replication_port):
                if worker_port:
                    ports.append(("127.0.0.1", worker_port, "workers.base_port"))
            if worker.metrics_port:
                ports.append(("127.0.0.1", worker.metrics_port, "metrics.port"))
    if settings.ai_bot.enabled and settings.ai_bot.metrics_port:
        ports.append(("127.0.0.1", settings.ai_bot.metrics_port, BOT_METRICS_PORT))
    return ports


def render_proxy_config(settings: Settings, workers: tuple[Worker, ...]) -> str:
    """The text of ``nginx/hearth.conf``: each route class sent to the process that serves
    it; media (Synapse's media APIs, their admin APIs, this project's media endpoints) to
    the media worker when there is one, else to the main process."""
    nginx = _environment(DEPLOY_TEMPLATES).get_template("nginx.conf.j2")
    return nginx.render(
        s=settings,
        generic_workers=[w for w in workers if w.kind == "generic"],
        media_worker_ports=[w.port for w in workers if w.serves_media],
        max_upload_bytes=byte_size(settings.media.max_upload_size),
    )


_EDGE_NAME = r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*"  # one key segment; never "." or ".."
_EDGE_CHECKS = {
    "bucket": re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"),
    "prefix": re.compile(rf"({_EDGE_NAME}/)*({_EDGE_NAME})?"),
    "secret": re.compile(r"[A-Za-z0-9._~+/=-]{16,}"),  # nothing nginx reads in a "string"
}
# What S3-compatible stores add about themselves; the edge does not pass it on.
_STORE_HEADERS = (*(f"x-amz-{name}" for name in (
    "id-2", "request-id", "version-id", "server-side-encryption", "storage-class",
    "expiration", "restore", "replication-status", "object-lock-mode",
    "object-lock-retain-until-date", "content-sha256", "sdk-checksum-algorithm",
    "checksum-crc32", "checksum-crc32c", "checksum-sha1", "checksum-sha256", "checksum-type",
)), "x-amzn-requestid", "x-minio-deployment-id")


def render_media_edge_config(
    listen_port: int, s3_endpoint: str, bucket: str, cache_dir: Path, *, secret: str = "",
    secret_file: Path | None = None, prefix: str = "", cache_max_size: str = "10G",
    tls: tuple[Path, Path] | None = None,
) -> str:
    """The media edge (deploy/templates/media-edge.conf.j2, docs/media-edge.md): an nginx
    server on ``listen_port`` serving ``/media-edge/<key>`` to signed URLs
    (media_repo/edge_signing.py) from ``<s3_endpoint>/<bucket>/<prefix><key>``, cached in
    ``cache_dir``; TLS with ``tls`` (certificate, key). The secret is ``secret`` or the text
    of ``secret_file``; it is written into the result, which must be kept 0600."""
    if secret_file is not None:
        secret = secret_from_file_text(secret_file.read_text(encoding="utf-8")).decode()
    values = {"bucket": bucket, "prefix": prefix, "secret": secret}
    bad = [name for name, pattern in _EDGE_CHECKS.items() if not pattern.fullmatch(values[name])]
    origin = urlsplit(s3_endpoint)
    if (origin.scheme not in ("http", "https") or not origin.hostname or "@" in origin.netloc
            or origin.path not in ("", "/") or origin.query or origin.fragment):
        bad.append("s3_endpoint")
    if not 0 < listen_port < 65536:
        bad.append("listen_port")
    if bad:
        raise SettingsError(f"media edge: invalid {', '.join(bad)} (see docs/media-edge.md)")
    default_port = 443 if origin.scheme == "https" else 80
    template = _environment(DEPLOY_TEMPLATES).get_template("media-edge.conf.j2")
    return template.render(
        listen_port=listen_port, bucket=bucket, prefix=prefix, secret=secret,
        path_prefix=EDGE_PATH_PREFIX, path_regex=re.escape(EDGE_PATH_PREFIX), server_name="_",
        origin={"url": s3_endpoint, "scheme": origin.scheme, "host": origin.hostname,
                "host_header": origin.netloc,
                "host_port": origin.netloc if origin.port else f"{origin.netloc}:{default_port}"},
        ca_file="/etc/ssl/certs/ca-certificates.crt",
        cache_dir=cache_dir, cache_max_size=byte_size(cache_max_size), zone_size="10m",
        cache_inactive="7d", cache_valid="7d", client_max_age=86400,
        hidden_store_headers=_STORE_HEADERS,
        tls={"certificate": tls[0], "key": tls[1]} if tls else None,
    )


def _environment(directory: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - renders YAML and nginx config, not HTML
    )


def _write_if_changed(path: Path, content: str, changed: list[Path]) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == content:
        os.chmod(path, 0o600)
        return
    write_private(path, content)
    changed.append(path)


def _render_log_config(path: Path, log_file: Path, settings: Settings, changed: list[Path]) -> None:
    template = _environment(LOG_TEMPLATE.parent).get_template(LOG_TEMPLATE.name)
    text = template.render(
        log_file=log_file, level=settings.logging.level, structured=settings.logging.structured
    )
    _write_if_changed(path, text, changed)


def render_homeserver_config(
    settings: Settings, data_dir: Path, secrets: SecretPaths, workers: tuple[Worker, ...]
) -> str:
    """The text of homeserver.yaml, with ``synapse_overrides`` merged in last."""
    template = _environment(PROJECT_DIR).get_template(TEMPLATE.name)
    text = template.render(
        s=settings,
        data_dir=data_dir,
        project_dir=PROJECT_DIR,
        baseurl=settings.baseurl,
        secrets=secrets,
        registration_shared_secret=secrets.read("registration_shared_secret"),
        sqlite_path=(data_dir / settings.database.sqlite_path),
        modules=project_modules(settings, secrets, data_dir),
        workers=workers,
        event_persisters=[w.name for w in workers if w.kind == "event_persister"],
        federation_senders=[w.name for w in workers if w.kind == "federation_sender"],
        media_workers=[w.name for w in workers if w.kind == "media"],
        media_storage=media_storage_config(settings, data_dir),
    )
    if not settings.synapse_overrides:
        return text
    loaded = yaml.safe_load(text)
    merged = deep_merge(loaded, settings.synapse_overrides)
    header = "".join(f"{line}\n" for line in text.splitlines()[:2] if line.startswith("#"))
    return header + yaml.safe_dump(merged, sort_keys=False)


BOT_CONFIG_FILE = "ai-bot.yaml"


def bot_config_mapping(settings: Settings, data_dir: Path) -> dict[str, Any]:
    """The AI bot's config (ai_bot/config.py), from ``ai_bot`` settings; ``bot_config`` last.

    It names no admin credential and no registration secret: ``hearth run`` makes the bot
    account with those (hearth/bot_account.py) and the bot gets only its own credential."""
    bot = settings.ai_bot
    endpoint: dict[str, Any] = {}
    if bot.base_url:
        endpoint["base_url"] = bot.base_url
    if bot.api_key_file:
        endpoint["api_key_path"] = bot.api_key_file
    base: dict[str, Any] = {
        "homeserver_url": f"http://127.0.0.1:{settings.server.port}",
        "localpart": bot.localpart,
        "displayname": bot.displayname,
        "data_dir": str(data_dir / "ai_bot"),
        "metrics_port": bot.metrics_port,
        "model": {"default": bot.default_model, "endpoint": endpoint},
    }
    return deep_merge(base, bot.bot_config)


def _check_references(settings: Settings, bot_config: dict[str, Any] | None) -> None:
    """Refuse settings that disagree with each other or with the files they name."""
    policy = PolicyRoles(settings, PROJECT_DIR)
    check_login_security_roles(settings, policy)
    if bot_config is not None:
        check_bot_config(settings, bot_config)
    check_ports_distinct(ports_needed(settings))


def render(settings: Settings, data_dir: Path) -> Rendered:
    """Render every file of the deployment into ``data_dir`` and say what changed."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (data_dir / "logs").mkdir(exist_ok=True, mode=0o700)
    make_tree_private(data_dir)  # what an older run (or a looser umask) left open
    secrets = ensure_secrets(data_dir, settings.secrets)
    bot_mapping = (bot_config_mapping(settings, data_dir)
                   if settings.ai_bot.enabled else None)
    _check_references(settings, bot_mapping)
    changed: list[Path] = []
    workers = plan_workers(settings, data_dir) if settings.has_workers else ()

    config_file = data_dir / "homeserver.yaml"
    _write_if_changed(
        config_file, render_homeserver_config(settings, data_dir, secrets, workers), changed
    )
    log_config = data_dir / "log.config"
    _render_log_config(log_config, data_dir / "logs" / "homeserver.log", settings, changed)

    worker_template = _environment(DEPLOY_TEMPLATES).get_template("worker.yaml.j2")
    for worker in workers:
        _render_log_config(
            worker.log_config, data_dir / "logs" / f"{worker.name}.log", settings, changed
        )
        _write_if_changed(
            worker.config_file,
            worker_template.render(w=worker, path=worker.config_file),
            changed,
        )

    proxy_config: Path | None = None
    if settings.proxy.enabled:
        proxy_config = data_dir / "nginx" / "hearth.conf"
        _write_if_changed(proxy_config, render_proxy_config(settings, workers), changed)
    bot_config: Path | None = None
    if bot_mapping is not None:
        bot_config = data_dir / BOT_CONFIG_FILE
        header = "# Rendered by `hearth render` from the ai_bot settings; edit those instead.\n"
        _write_if_changed(bot_config, header + yaml.safe_dump(bot_mapping, sort_keys=False),
                          changed)
    return Rendered(
        data_dir=data_dir,
        config_file=config_file,
        log_config=log_config,
        workers=workers,
        proxy_config=proxy_config,
        secrets=secrets,
        settings=settings,
        changed=tuple(changed),
        bot_config=bot_config,
    )
