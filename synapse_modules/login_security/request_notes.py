"""What the gate learnt about one HTTP request, for this module's hooks in the same request.

Synapse calls the password auth provider and the login spam check for the same ``/login``
request, in the same process, but gives neither the raw request. The gate (``gate.py``)
creates one ``RequestNote`` per client request it guards — the client address it resolved
and, for ``/login``, the login type of the body — keyed by Synapse's request ID; the auth
checker writes its ``Verdict`` into that same note, and the login spam check reads it.

Why this cannot be filled or emptied by an attacker: a note lives exactly as long as its
request (it is dropped when the request finishes, or after ``ttl_s`` if Synapse never tells
us), so the map holds only requests in flight. Nothing is ever evicted to make room: when
``capacity`` requests are in flight, new ones get no note, and a login without a note is
refused (fail closed) rather than let through. No security state outlives a request here:
locks, counters and enrolments are in the database, shared by every worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from hearth.synapse_modules.login_security.decisions import Verdict

DEFAULT_TTL_S = 300.0
DEFAULT_CAPACITY = 100_000

# Login types that carry no password: SSO and module login tokens, JWT, appservices.
NON_PASSWORD_LOGIN_TYPES = frozenset({
    "m.login.token", "org.matrix.login.jwt", "m.login.application_service",
})


class Route(Enum):
    """Which kind of request the gate saw."""

    LOGIN = "login"  # POST to a path Synapse routes to its login servlet
    OTHER = "other"  # any other client request that may carry user-interactive auth


@dataclass
class RequestNote:
    """One guarded request: its resolved client address, login type and (later) verdict."""

    route: Route
    address: str | None
    peer: str | None
    login_type: str | None = None  # the body's "type" at /login (None: not a string/JSON)
    verdict: Verdict | None = None  # written by the auth checker

    @property
    def needs_verdict(self) -> bool:
        """Whether a login through this request must have been checked by our auth checker.

        Everything but the known password-less types: an unknown or unreadable type fails
        closed (Synapse refuses those before the login spam check anyway).
        """
        return self.login_type not in NON_PASSWORD_LOGIN_TYPES


class RequestNotes:
    """Notes of the requests in flight, by Synapse request ID; ``clock``: monotonic seconds."""

    def __init__(self, ttl_s: float = DEFAULT_TTL_S, capacity: int = DEFAULT_CAPACITY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._capacity = capacity
        self._clock = clock
        self._entries: dict[str, tuple[float, RequestNote]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def _drop_expired(self) -> None:
        now = self._clock()
        for key in [k for k, (t, _) in self._entries.items() if now - t > self._ttl_s]:
            del self._entries[key]

    def add(self, request_id: str, note: RequestNote) -> bool:
        """Keep ``note`` for the request; False (nothing kept) when ``capacity`` are in flight."""
        if len(self._entries) >= self._capacity:
            self._drop_expired()
            if len(self._entries) >= self._capacity:
                return False
        self._entries[request_id] = (self._clock(), note)
        return True

    def get(self, request_id: str | None) -> RequestNote | None:
        if request_id is None:
            return None
        entry = self._entries.get(request_id)
        if entry is None or self._clock() - entry[0] > self._ttl_s:
            return None
        return entry[1]

    def discard(self, request_id: str) -> None:
        self._entries.pop(request_id, None)
