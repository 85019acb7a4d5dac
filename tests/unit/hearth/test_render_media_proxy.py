"""The proxy config's media part (render_proxy_config): where media goes in each profile, the
upload limit nginx enforces, and the admin allow-list kept in front of the media admin APIs.
Behaviour in a real nginx: tests/integration/hearth/test_media_routes_proxy.py."""

from __future__ import annotations

import re

from hearth.render import PROFILES_DIR, plan_workers, render_proxy_config
from hearth.settings import Settings, load_settings


def _settings(profile: str, *assignments: str) -> Settings:
    return load_settings(profile, PROFILES_DIR, None, (
        "proxy.enabled=true", "server.trusted_proxies=[127.0.0.1]", *assignments), {})


def _upstream(text: str, name: str) -> list[str]:
    block = re.search(rf"upstream {name} \{{(.*?)\}}", text, re.S)
    assert block is not None, name
    return re.findall(r"server (\S+);", block.group(1))


def _rendered(settings: Settings) -> str:
    workers = plan_workers(settings, PROFILES_DIR) if settings.has_workers else ()
    return render_proxy_config(settings, workers)


def test_media_goes_to_media_worker_in_production() -> None:
    """With a media worker, media and the media admin APIs go to it."""
    settings = _settings("production", "server.port=8008", "workers.base_port=8081")
    media = next(w for w in plan_workers(settings, PROFILES_DIR) if w.serves_media)
    text = _rendered(settings)
    assert _upstream(text, "hearth_media") == [f"127.0.0.1:{media.port}"]
    assert _upstream(text, "hearth_media_admin") == [f"127.0.0.1:{media.port}"]


def test_media_goes_to_main_without_media_worker() -> None:
    """In the dev profile (one process), media goes to the main process."""
    text = _rendered(_settings("dev", "server.port=8010"))
    assert _upstream(text, "hearth_media") == ["127.0.0.1:8010"]
    assert _upstream(text, "hearth_media_admin") == ["127.0.0.1:8010"]


def test_media_admin_routes_stay_behind_allow_list() -> None:
    """The media admin locations sit inside ^~ admin prefixes (Synapse's, this project's, and
    the media repository's own media/admin), after the allow/deny rules: nothing reaches
    them from outside the allowed ranges."""
    text = _rendered(_settings("production", "proxy.admin_allowed_ranges=[10.1.0.0/16]"))
    for prefix, nested in (("/_synapse/admin", "location ~ ^/_synapse/admin/v1/("),
                           ("/_synapse/client/hearth/v1/admin",
                            "location ~ ^/_synapse/client/hearth/v1/admin/media"),
                           ("/_synapse/client/hearth/v1/media/admin",
                            "proxy_pass http://hearth_media_admin;")):
        block = text.split(f"location ^~ {prefix} {{", 1)[1].split("\n    }\n", 1)[0]
        rules = block.index("allow 10.1.0.0/16;"), block.index("deny all;")
        assert rules[0] < rules[1] < block.index(nested)


def test_upload_limit_in_bytes() -> None:
    """client_max_body_size is media.max_upload_size in bytes (nginx knows no T suffix)."""
    text = _rendered(_settings("dev", "media.max_upload_size=2T"))
    assert set(re.findall(r"client_max_body_size (\S+);", text)) == {str(2 * 1024**4)}
    assert f"larger than the {2 * 1024**4} bytes" in text
