"""docs/api.md stays true: it is exactly what the OpenAPI document renders to."""

from __future__ import annotations

from hearth.render import PROJECT_DIR
from hearth.synapse_modules.api_docs.markdown import reference

DOC = PROJECT_DIR / "docs" / "api.md"


def test_api_reference_matches_the_document() -> None:
    """Regenerate with: .venv/bin/python -m hearth.synapse_modules.api_docs > docs/api.md"""
    assert DOC.read_text(encoding="utf-8") == reference()
