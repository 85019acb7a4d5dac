"""Render Synapse's configuration from ``homeserver.yaml.j2`` into a data directory.

Rendering is idempotent: secrets are generated once and kept, and a file whose content did
not change is not rewritten. Everything rendered is written 0600 because the main config
holds the registration shared secret (and, in production, database credentials).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from deploy.secrets import SecretPaths, ensure_secrets, write_private
from deploy.settings import Settings, deep_merge

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


def project_modules(settings: Settings) -> tuple[ModuleEntry, ...]:
    """Every module this project ships, enabled or not per the settings."""
    return (
        ModuleEntry(
            name="business_metrics",
            path="synapse_modules.business_metrics.BusinessMetricsModule",
            enabled=settings.modules.business_metrics,
            config={"server_name": settings.server.name},
        ),
    )


def plan_workers(settings: Settings, data_dir: Path) -> tuple[Worker, ...]:
    """Name and number the worker processes; ports count up from ``workers.base_port``."""
    kinds: list[tuple[str, int, tuple[str, ...], bool]] = [
        ("event_persister", settings.workers.event_persisters, ("replication",), True),
        ("generic", settings.workers.generic_workers, ("client", "federation"), False),
        ("federation_sender", settings.workers.federation_senders, (), False),
        ("media", settings.workers.media_workers, ("media",), False),
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
        modules=project_modules(settings),
        workers=workers,
        event_persisters=[w.name for w in workers if w.kind == "event_persister"],
        federation_senders=[w.name for w in workers if w.kind == "federation_sender"],
        media_workers=[w.name for w in workers if w.kind == "media"],
    )
    if not settings.synapse_overrides:
        return text
    loaded = yaml.safe_load(text)
    merged = deep_merge(loaded, settings.synapse_overrides)
    header = "".join(f"{line}\n" for line in text.splitlines()[:2] if line.startswith("#"))
    return header + yaml.safe_dump(merged, sort_keys=False)


def render(settings: Settings, data_dir: Path) -> Rendered:
    """Render every file of the deployment into ``data_dir`` and say what changed."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "logs").mkdir(exist_ok=True)
    secrets = ensure_secrets(data_dir, settings.secrets)
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
        nginx = _environment(DEPLOY_TEMPLATES).get_template("nginx.conf.j2")
        _write_if_changed(
            proxy_config,
            nginx.render(
                s=settings,
                generic_workers=[w for w in workers if w.kind == "generic"],
                media_worker_ports=[w.port for w in workers if w.kind == "media"],
            ),
            changed,
        )
    return Rendered(
        data_dir=data_dir,
        config_file=config_file,
        log_config=log_config,
        workers=workers,
        proxy_config=proxy_config,
        secrets=secrets,
        settings=settings,
        changed=tuple(changed),
    )
