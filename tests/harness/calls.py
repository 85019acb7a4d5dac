"""Small helpers for the client-API tests: path quoting, expected refusals, polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote

from mautrix.errors import MatrixRequestError

T = TypeVar("T")


def seg(value: str) -> str:
    """One URL path segment (room ID, event ID, alias, user ID), percent-encoded.

    ``User.raw`` sends the path as given, so IDs with ``!``, ``$``, ``#``, ``@`` or ``:``
    must be quoted by the caller.
    """
    return quote(value, safe="")


async def refused(call: Awaitable[Any], status: int, errcode: str) -> MatrixRequestError:
    """Await ``call``, which must fail with exactly HTTP ``status`` and ``errcode``."""
    try:
        result = await call
    except MatrixRequestError as error:
        assert (error.http_status, error.errcode) == (status, errcode), (
            f"expected {status} {errcode}, got {error.http_status} {error.errcode}: "
            f"{error.message}"
        )
        return error
    raise AssertionError(f"expected {status} {errcode}, but the call succeeded: {result!r}")


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 20.0,
    interval: float = 0.2, what: str = "condition",
) -> T:
    """Call ``probe`` until ``done(result)`` holds; return that result or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s; last: {result!r}")
        await asyncio.sleep(interval)
