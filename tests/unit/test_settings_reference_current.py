"""docs/settings.md stays true: it is exactly what `hearth show-settings --markdown` prints."""

from __future__ import annotations

from pathlib import Path

from deploy.render import PROFILES_DIR
from deploy.settings import load_settings, settings_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_settings_reference_matches_the_code() -> None:
    """Regenerate with: .venv/bin/hearth show-settings --markdown > docs/settings.md"""
    settings = load_settings("dev", PROFILES_DIR, None, (), {})
    assert DOC.read_text(encoding="utf-8") == settings_reference(settings)
