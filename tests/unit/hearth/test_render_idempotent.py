"""Rendering: secrets generated once and kept, files 0600, re-rendering changes nothing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from hearth.render import PROFILES_DIR, render
from hearth.settings import load_settings


def _settings(*assignments: str, profile: str = "dev"):
    return load_settings(profile, PROFILES_DIR, None, assignments, {})


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_render_generates_private_secrets(tmp_path: Path) -> None:
    """Every secret and rendered file is readable by its owner only."""
    result = render(_settings(), tmp_path)
    for name in ("signing.key", "macaroon_secret_key", "registration_shared_secret",
                 "form_secret"):
        path = tmp_path / "secrets" / name
        assert path.is_file() and _mode(path) == 0o600, name
    assert _mode(tmp_path / "secrets") == 0o700
    assert _mode(result.config_file) == 0o600
    assert _mode(result.log_config) == 0o600
    key = (tmp_path / "secrets" / "signing.key").read_text().split()
    assert key[0] == "ed25519" and key[1].startswith("a_")


def test_rerender_keeps_secrets_and_changes_nothing(tmp_path: Path) -> None:
    """A second render writes no file and keeps every secret byte for byte."""
    render(_settings(), tmp_path)
    before = {p.name: p.read_bytes() for p in (tmp_path / "secrets").iterdir()}
    config_before = (tmp_path / "homeserver.yaml").read_bytes()
    again = render(_settings(), tmp_path)
    assert again.changed == ()
    assert {p.name: p.read_bytes() for p in (tmp_path / "secrets").iterdir()} == before
    assert (tmp_path / "homeserver.yaml").read_bytes() == config_before


def test_rendered_config_carries_the_settings(tmp_path: Path) -> None:
    """Values from settings land in Synapse's keys; the shared secret stays inline."""
    result = render(_settings("auth.failed_login_limit=3", "server.port=8123",
                              "consent.enabled=true"), tmp_path)
    config = yaml.safe_load(result.config_file.read_text())
    # The lockout is login_security's; Synapse's own limiter stays above it as a backstop.
    login = next(m for m in config["modules"] if m["module"].endswith("LoginSecurityModule"))
    assert login["config"]["lockout"]["account_failures"] == 3
    assert config["rc_login"]["failed_attempts"]["burst_count"] == 6
    assert config["listeners"][0]["port"] == 8123
    assert "consent" in config["listeners"][0]["resources"][0]["names"]
    assert config["user_consent"]["version"] == "1.0"
    secret = (tmp_path / "secrets" / "registration_shared_secret").read_text().strip()
    assert config["registration_shared_secret"] == secret
    assert config["macaroon_secret_key_path"].endswith("secrets/macaroon_secret_key")
    assert "macaroon_secret_key" not in config
    modules = [m["module"] for m in config["modules"]]
    assert "hearth.synapse_modules.business_metrics.BusinessMetricsModule" in modules


def test_synapse_overrides_are_merged_last(tmp_path: Path) -> None:
    """Anything Synapse supports can still be set through synapse_overrides."""
    result = render(_settings("synapse_overrides.max_upload_size=5M",
                              "synapse_overrides.user_directory.search_all_users=true"), tmp_path)
    config = yaml.safe_load(result.config_file.read_text())
    assert config["max_upload_size"] == "5M"
    assert config["user_directory"] == {
        "enabled": True, "search_all_users": True, "prefer_local_users": True,
    }


def test_secrets_from_environment_and_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production secrets can come from an environment variable or an operator's file."""
    given = tmp_path / "given_form_secret"
    given.write_text("from-a-file\n")
    monkeypatch.setenv("HEARTH_MACAROON_SECRET_KEY", "from-the-environment")
    result = render(_settings(f"secrets.form_secret_file={given}"), tmp_path / "data")
    assert result.secrets.read("macaroon_secret_key") == "from-the-environment"
    assert _mode(result.secrets.macaroon_secret_key) == 0o600
    config = yaml.safe_load(result.config_file.read_text())
    assert config["form_secret_path"] == str(given)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render(_settings(f"secrets.form_secret_file={tmp_path}/missing"), tmp_path / "data")


def test_production_profile_renders_workers_and_proxy(tmp_path: Path) -> None:
    """Production: PostgreSQL, Redis, one file per worker, and a TLS 1.3 proxy config."""
    result = render(_settings(profile="production"), tmp_path)
    config = yaml.safe_load(result.config_file.read_text())
    assert config["database"]["name"] == "psycopg2"
    assert config["redis"]["enabled"] is True
    names = [w.name for w in result.workers]
    assert names == ["event_persister1", "generic1", "generic2", "federation_sender1", "media1"]
    assert config["stream_writers"]["events"] == ["event_persister1"]
    assert config["federation_sender_instances"] == ["federation_sender1"]
    assert config["instance_map"]["event_persister1"]["port"] == result.workers[0].replication_port
    assert config["enable_media_repo"] is False
    for worker in result.workers:
        worker_config = yaml.safe_load(worker.config_file.read_text())
        assert worker_config["worker_name"] == worker.name
        assert _mode(worker.config_file) == 0o600
    assert result.proxy_config is not None
    proxy = result.proxy_config.read_text()
    assert "ssl_protocols TLSv1.3;" in proxy
    assert "location ^~ /_synapse/admin" in proxy and "deny all;" in proxy
    assert "allow 127.0.0.1/32;" in proxy
