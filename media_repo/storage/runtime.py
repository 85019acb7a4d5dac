"""The object storage of this process, for the download side (redirects to signed URLs).

Synapse builds the storage provider inside its media repository, apart from the modules; the
provider registers its :class:`MediaObjects` here when it is built and the media module's
download front finds it here when a download asks for a redirect. It is a handle on the
process's client and tables, not state: everything it answers comes from the database.
"""

from __future__ import annotations

from hearth.media_repo.storage.media_objects import MediaObjects

_current: list[MediaObjects] = []


def register(objects: MediaObjects) -> None:
    """The provider of this process was built (the newest one wins)."""
    _current[:] = [objects]


def current() -> MediaObjects | None:
    """This process's object storage, or None when no provider was built here."""
    return _current[0] if _current else None
