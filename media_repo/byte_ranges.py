"""HTTP ``Range: bytes=...`` for one range (RFC 9110 §14.1.2), as players and resumers send it.

Several ranges in one header (multipart/byteranges) are not served: the whole file is, which
RFC 9110 allows. A range starting past the end is unsatisfiable (416).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SINGLE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``end`` inclusive of a file of ``size`` bytes."""

    start: int
    end: int
    size: int
    text: str

    @property
    def satisfiable(self) -> bool:
        return 0 <= self.start < self.size and self.start <= self.end

    @property
    def length(self) -> int:
        return self.end - self.start + 1 if self.satisfiable else 0


def parse_range(header: str, size: int) -> ByteRange | None:
    """The one range ``header`` asks for, or None when it is not a single byte range."""
    found = _SINGLE.match(header)
    if found is None:
        return None
    first, last = found.group(1), found.group(2)
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0:
            return ByteRange(size, size - 1, size, header)  # unsatisfiable
        return ByteRange(max(0, size - suffix), size - 1, size, header)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None  # syntactically invalid: ignored, as RFC 9110 says
    return ByteRange(start, end, size, header)
