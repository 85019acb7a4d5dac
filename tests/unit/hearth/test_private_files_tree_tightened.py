"""A tree left open by an older run (or a loose umask) is closed to group and others."""

from __future__ import annotations

import stat
from pathlib import Path

from hearth.private_files import make_tree_private
from tests.harness.file_modes import assert_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_loose_tree_closed_keeping_owner_bits(tmp_path: Path) -> None:
    """Group and other bits go; the owner keeps what it had (an executable stays one)."""
    root = tmp_path / "data"
    (root / "media" / "ab" / "cd").mkdir(parents=True)
    (root / "media" / "ab" / "cd" / "file").write_text("x")
    (root / "tool").write_text("#!/bin/sh\n")
    (root / "db").write_text("x")
    for path, mode in ((root, 0o777), (root / "media", 0o755), (root / "media" / "ab", 0o775),
                       (root / "media" / "ab" / "cd", 0o751),
                       (root / "media" / "ab" / "cd" / "file", 0o666),
                       (root / "tool", 0o755), (root / "db", 0o644)):
        path.chmod(mode)
    make_tree_private(root)
    assert_private(root)
    assert (_mode(root / "tool"), _mode(root / "db"), _mode(root / "media")) == (
        0o700, 0o600, 0o700)


def test_links_not_followed_out_of_the_tree(tmp_path: Path) -> None:
    """A symbolic link in the tree does not make the file or directory it names private."""
    outside = tmp_path / "shared"
    outside.mkdir()
    (outside / "public.txt").write_text("x")
    outside.chmod(0o755)
    (outside / "public.txt").chmod(0o644)
    root = tmp_path / "data"
    root.mkdir()
    (root / "linked-dir").symlink_to(outside)
    (root / "linked-file").symlink_to(outside / "public.txt")
    make_tree_private(root)
    assert (_mode(outside), _mode(outside / "public.txt")) == (0o755, 0o644)
    assert _mode(root) == 0o700


def test_missing_tree_is_nothing_to_do(tmp_path: Path) -> None:
    """Before the first run there is no tree yet."""
    make_tree_private(tmp_path / "absent")
    assert not (tmp_path / "absent").exists()
