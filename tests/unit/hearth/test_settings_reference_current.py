"""docs/settings.md stays true: it is exactly what `hearth show-settings --markdown` prints."""

from __future__ import annotations

from hearth.render import PROFILES_DIR, PROJECT_DIR
from hearth.settings import load_settings, settings_reference

DOC = PROJECT_DIR / "docs" / "settings.md"


def test_settings_reference_matches_the_code() -> None:
    """Regenerate with: .venv/bin/hearth show-settings --markdown > docs/settings.md"""
    settings = load_settings("dev", PROFILES_DIR, None, (), {})
    assert DOC.read_text(encoding="utf-8") == settings_reference(settings)
