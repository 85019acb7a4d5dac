"""Rendering (the first step of every `hearth run`) leaves the data directory private: new
directories 0700 whatever the umask, and what an older run left open closed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hearth.render import PROFILES_DIR, render
from hearth.settings import load_settings
from tests.harness.file_modes import assert_private

# What earlier versions left 0644 / 0755 (created under the default umask).
OLDER_RUN_FILES = (
    "homeserver.db", "homeserver.db-wal", "homeserver.db-shm",
    "logs/homeserver.log", "logs/homeserver.log.2026-11-30", "logs/synapse.out",
    "media_store/local_content/ab/cd/efgh", "media_store/local_thumbnails/ab/cd/efgh/32-32",
    "ai_bot/store/crypto.db", "ai_bot/ledger.db", "secrets/extra",
)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.parametrize("profile", ["dev", "production"])
def test_new_data_dir_private(tmp_path: Path, loose_umask: None, profile: str) -> None:
    """A first render under umask 0022 makes only owner-only files and directories."""
    data = tmp_path / "data"
    render(load_settings(profile, PROFILES_DIR, None, (), {}), data)
    assert (data / "logs").is_dir()
    assert_private(data)


def test_older_run_files_closed(tmp_path: Path, loose_umask: None) -> None:
    """Database, WAL, logs, media, bot files and secrets an older run left open are closed."""
    data = tmp_path / "data"
    for name in OLDER_RUN_FILES:
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_text("x")
    for path in [data, *data.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    render(load_settings("dev", PROFILES_DIR, None, (), {}), data)
    assert_private(data)
