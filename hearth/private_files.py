"""Files only the service account may read: secrets, credentials, rendered configs.

Neutral ground: the command line, the renderer and the AI bot all write such files, so the
one way to do it lives here and depends on nothing else of the project. A file is written
beside its final name and renamed into place, so a reader never sees half of it and it is
never, even briefly, readable by others whatever the umask.
"""

from __future__ import annotations

import os
from pathlib import Path


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
