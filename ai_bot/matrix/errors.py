"""Errors of the bot's Matrix calls, in a module of their own.

The Matrix client raises them and the edit scheduler (a consumer of the client's sends)
catches them; neither has to import the other for it.
"""

from __future__ import annotations


class MatrixError(Exception):
    """A refused or failed client-server call."""

    def __init__(self, status: int, errcode: str, message: str, retry_after_ms: int = 0) -> None:
        super().__init__(f"HTTP {status} {errcode}: {message}")
        self.status = status
        self.errcode = errcode
        self.retry_after_ms = retry_after_ms


class RateLimited(Exception):
    """The homeserver answered 429 M_LIMIT_EXCEEDED."""

    def __init__(self, retry_after_ms: int) -> None:
        super().__init__(f"rate limited for {retry_after_ms} ms")
        self.retry_after_ms = retry_after_ms


class SendFailed(Exception):
    """A send failed; ``retryable`` for network errors and 5xx."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable
