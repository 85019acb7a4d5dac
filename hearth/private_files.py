"""Files only the service account may read: secrets, credentials, rendered configs.

Neutral ground: the command line, the renderer and the AI bot all write such files, so the
one way to do it lives here and depends on nothing else of the project. A file is written
beside its final name and renamed into place, so a reader never sees half of it and it is
never, even briefly, readable by others whatever the umask.

The data directory as a whole is kept the same way: every process ``hearth run`` starts gets
``PRIVATE_UMASK``, and what older runs (or a looser umask) left open is closed at start
(``make_tree_private``), since the database, its WAL and the logs hold access tokens and
password hashes, and media may be private attachments.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

# New files 0600 and directories 0700: nothing for group or other local users.
PRIVATE_UMASK = 0o077


def write_private(path: Path, content: str) -> None:
    """Atomically replace ``path`` with ``content``, mode 0600, in a 0700 directory if new."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def make_tree_private(root: Path) -> None:
    """Remove the group and other permission bits of ``root`` and of everything under it,
    keeping the owner's. Symbolic links are neither changed nor followed, so nothing outside
    the tree changes; a tree that does not exist yet is nothing to do. Walks the whole tree
    (media included), so it costs one ``lstat`` per file at each start."""
    for directory, _subdirectories, files in os.walk(root):  # does not enter linked dirs
        _close(Path(directory))
        for name in files:
            _close(Path(directory, name))


def _close(path: Path) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:  # removed while we walked (a temporary file, a rotated log)
        return
    if not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o077:
        try:
            os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)
        except PermissionError as exc:  # refuse to run with a file we cannot keep private
            raise PermissionError(
                f"cannot make {path} private (mode {stat.S_IMODE(info.st_mode):04o}): it "
                f"belongs to another account; chown it to the one that runs hearth") from exc
