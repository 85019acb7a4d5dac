"""Which files of a tree other local users could reach: the check of every privacy test."""

from __future__ import annotations

import stat
from pathlib import Path


def open_to_others(root: Path) -> list[str]:
    """Every file and directory under ``root`` (itself included) with a group or other
    permission bit, as ``mode path``; symbolic links are not files of ours to judge."""
    offenders = []
    for path in [root, *root.rglob("*")]:
        try:
            info = path.lstat()
        except FileNotFoundError:  # a temporary file gone while we walked
            continue
        if not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o077:
            offenders.append(f"{stat.S_IMODE(info.st_mode):04o} {path.relative_to(root)}")
    return offenders


def assert_private(root: Path) -> None:
    """Fail with the list of offenders when anything under ``root`` is open to others."""
    offenders = open_to_others(root)
    assert offenders == [], "open to group or others:\n" + "\n".join(offenders)
