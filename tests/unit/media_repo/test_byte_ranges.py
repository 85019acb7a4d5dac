"""One HTTP byte range, parsed as RFC 9110 says (and what is not one range)."""

from __future__ import annotations

import pytest

from hearth.media_repo.byte_ranges import parse_range


@pytest.mark.parametrize(("header", "start", "end"), [
    ("bytes=0-99", 0, 99), ("bytes=100-", 100, 999), ("bytes=-10", 990, 999),
    ("bytes=900-5000", 900, 999), ("BYTES = 5 - 6", 5, 6), ("bytes=-5000", 0, 999),
])
def test_single_range_parsed_and_clamped(header: str, start: int, end: int) -> None:
    """Ranges are clamped to the file (1000 bytes); a suffix longer than it is all of it."""
    found = parse_range(header, 1000)
    assert found is not None and (found.start, found.end) == (start, end)
    assert found.satisfiable and found.length == end - start + 1


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_range_past_the_end_unsatisfiable(header: str) -> None:
    """A start at or past the end (or an empty suffix) cannot be served: 416."""
    found = parse_range(header, 1000)
    assert found is not None and not found.satisfiable and found.length == 0


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-1", "bytes=-", "bytes=9-3",
                                    "bytes=a-b", ""])
def test_not_one_byte_range_ignored(header: str) -> None:
    """Several ranges, other units and malformed specs are not a range: the whole file."""
    assert parse_range(header, 1000) is None
