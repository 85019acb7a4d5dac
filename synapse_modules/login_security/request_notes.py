"""Per-request notes passed between this module's hooks within one HTTP request (pure).

Synapse calls the password auth provider and the login spam check for the same ``/login``
request, in the same process, but gives neither the raw request. These registries carry
what one hook learnt to the next: the client address the gate resolved (keyed by Synapse's
request ID) and the credential check's verdict (keyed by the identity of the request's
logging-context record). They hold nothing beyond the life of a request — entries are
dropped when read, when the request finishes, or after ``ttl_s`` at the latest — so they
are not shared state in the sense that would need to reach other workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")

DEFAULT_TTL_S = 300.0
MAX_ENTRIES = 100_000


@dataclass(frozen=True)
class LoginRequest:
    """What the gate saw of a ``POST /login``: the client address it resolved, if any."""

    address: str | None
    peer: str | None


class Registry(Generic[V]):
    """A small map with expiry; ``clock`` returns monotonic seconds."""

    def __init__(self, ttl_s: float = DEFAULT_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[object, tuple[float, object, V]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def _prune(self) -> None:
        now = self._clock()
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
            return
        expired = [k for k, (t, _, _) in self._entries.items() if now - t > self._ttl_s]
        for key in expired:
            del self._entries[key]

    def put(self, key: object, value: V, anchor: object = None) -> None:
        """Store ``value``; ``anchor`` is kept alive with it (so an ``id()`` key stays unique)."""
        self._prune()
        self._entries[key] = (self._clock(), anchor, value)

    def get(self, key: object) -> V | None:
        entry = self._entries.get(key)
        if entry is None or self._clock() - entry[0] > self._ttl_s:
            return None
        return entry[2]

    def pop(self, key: object) -> V | None:
        entry = self._entries.pop(key, None)
        if entry is None or self._clock() - entry[0] > self._ttl_s:
            return None
        return entry[2]

    def discard(self, key: object) -> None:
        self._entries.pop(key, None)
