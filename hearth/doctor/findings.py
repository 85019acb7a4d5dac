"""The answer of one check: ok, warning or problem, what was found, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["ok", "warning", "problem"]


@dataclass(frozen=True)
class Finding:
    """One check's verdict; ``fix`` is empty when there is nothing to do."""

    check: str
    level: Level
    what: str
    fix: str = ""


def ok(check: str, what: str) -> Finding:
    """All is well."""
    return Finding(check, "ok", what)


def warning(check: str, what: str, fix: str) -> Finding:
    """Works, but should be changed."""
    return Finding(check, "warning", what, fix)


def problem(check: str, what: str, fix: str) -> Finding:
    """Does not work; ``hearth doctor`` exits non-zero."""
    return Finding(check, "problem", what, fix)
