"""sniff.matches: MIME types against allow-list globs."""

from __future__ import annotations

import pytest

from hearth.media_repo import sniff


@pytest.mark.parametrize(("mime", "patterns", "expected"), [
    ("image/png", ["image/png"], True),
    ("image/png", ["image/*"], True),
    ("image/png", ["*"], True),
    ("image/png", ["*/*"], True),
    ("IMAGE/PNG", ["image/png"], True),
    ("image/png", [" Image/* "], True),
    ("text/plain; charset=utf-8", ["text/plain"], True),
    ("image/png", ["image/jpeg", "video/*"], False),
    ("image/svg+xml", ["image/svg"], False),
    ("imagex/png", ["image/*"], False),
    ("image/png", [], False),
])
def test_mime_matches_globs(mime: str, patterns: list[str], expected: bool) -> None:
    """Exact types, family globs and the wildcard match; nothing else does."""
    assert sniff.matches(mime, patterns) is expected
