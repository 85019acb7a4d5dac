"""The production profile's worker files, as Synapse's own config loader reads them: the media
worker, and only it, runs the media repository (the shared config turns it off)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from synapse.config.homeserver import HomeServerConfig
from synapse.config.workers import InstanceTcpLocationConfig

from hearth.render import PROFILES_DIR, Rendered, render
from hearth.settings import load_settings


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """The production profile rendered with its defaults (two generic workers, one media
    worker); media processing off, so only Synapse's own media repository is read here."""
    settings = load_settings("production", PROFILES_DIR, None, ("media.processing=false",), {})
    return render(settings, tmp_path_factory.mktemp("production"))


def _synapse_config(rendered: Rendered, worker_file: Path | None) -> HomeServerConfig:
    files = [str(rendered.config_file)] + ([str(worker_file)] if worker_file else [])
    argv = [arg for path in files for arg in ("-c", path)]
    return HomeServerConfig.load_config("", argv)


def test_only_media_worker_loads_media_repository(production: Rendered) -> None:
    """Synapse reads the media repository as enabled in the media worker's config and as
    disabled in the main process's and every other worker's."""
    loads = {worker.name: _synapse_config(production, worker.config_file).media
             .can_load_media_repo for worker in production.workers}
    loads["main"] = _synapse_config(production, None).media.can_load_media_repo
    assert {name for name, on in loads.items() if on} == {"media1"}


def test_media_worker_runs_background_jobs(production: Rendered) -> None:
    """media_instance_running_background_jobs names the media worker (and the media worker
    is the one reading it as enabled)."""
    media = next(w for w in production.workers if w.serves_media)
    config = _synapse_config(production, media.config_file)
    assert config.media.media_instance_running_background_jobs == media.name == "media1"


def test_media_worker_listens_for_media_and_replication(production: Rendered) -> None:
    """The media worker's HTTP listener carries the media resource (Synapse adds the client
    and federation media servlets to it), and it has a replication listener in
    instance_map."""
    media = next(w for w in production.workers if w.serves_media)
    worker_file = yaml.safe_load(media.config_file.read_text())
    resources = [r["names"] for listener in worker_file["worker_listeners"]
                 for r in listener.get("resources", ())]
    assert resources == [["media"], ["replication"]]
    instance = _synapse_config(production, media.config_file).worker.instance_map[media.name]
    assert isinstance(instance, InstanceTcpLocationConfig)
    assert instance.port == media.replication_port


def test_media_worker_writes_quarantine_stream(production: Rendered) -> None:
    """Every process knows the media worker writes the quarantined-media stream: the
    quarantine admin APIs run there and would otherwise fail (AssertionError, 500)."""
    for worker in (None, *(w.config_file for w in production.workers)):
        writers = _synapse_config(production, worker).worker.writers
        assert writers.quarantined_media_changes == ["media1"], worker


def test_no_media_worker_leaves_media_on_main(tmp_path: Path) -> None:
    """Without a media worker, the main process keeps serving media (the shared config does
    not turn it off)."""
    settings = load_settings("production", PROFILES_DIR, None,
                             ("media.processing=false", "workers.media_workers=0"), {})
    rendered = render(settings, tmp_path)
    assert _synapse_config(rendered, None).media.can_load_media_repo
    assert not any(w.serves_media for w in rendered.workers)
