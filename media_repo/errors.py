"""The one refusal type of the media pipeline: what the client is told, and why it is counted.

Every check (type, size, decoding, scanning, storage) raises :class:`MediaRejected`; the upload
front turns it into a Matrix error (``errcode`` + ``error`` with ``status``) and a metric label
(``reason``), so no check decides on its own how a refusal looks.
"""

from __future__ import annotations


class MediaRejected(Exception):
    """An upload (or download) refused with a Matrix error a person understands."""

    def __init__(self, status: int, errcode: str, message: str, reason: str) -> None:
        super().__init__(message)
        self.status = status
        self.errcode = errcode
        self.message = message
        self.reason = reason  # a short metric label: "type_not_allowed", "malformed", ...
        self.sha256: str | None = None  # the refused file's hash, where it is recorded

    def body(self) -> dict[str, str]:
        return {"errcode": self.errcode, "error": self.message}


def malformed(message: str) -> MediaRejected:
    """The file is not what its content claims (truncated, corrupt, disguised)."""
    return MediaRejected(400, "M_INVALID_PARAM", message, "malformed")


def too_large(message: str, reason: str = "too_large") -> MediaRejected:
    """A size limit (file, pixels, duration, decoded bytes) was passed."""
    return MediaRejected(413, "M_TOO_LARGE", message, reason)


def forbidden(message: str, reason: str) -> MediaRejected:
    """A policy or scanning verdict: the file may not be stored."""
    return MediaRejected(403, "M_FORBIDDEN", message, reason)


def unavailable(message: str, reason: str) -> MediaRejected:
    """A part the upload needs (scanner, object store) cannot be reached: try again later."""
    return MediaRejected(503, "M_UNKNOWN", message, reason)
