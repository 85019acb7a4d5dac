"""The client-server paths Synapse routes to the servlets whose requests we must guard.

Read from the servlets' own ``PATTERNS`` (built by ``client_patterns``), so a Synapse release
that adds a prefix (``api/v1``, ``r0``, ``v3``, ``unstable``, ...) is guarded without a change
here. ``login_path`` is what the client-address gate compares ``request.path`` with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from synapse.rest.client.login import LoginRestServlet


def login_patterns() -> tuple[re.Pattern[str], ...]:
    """The regular expressions Synapse matches ``POST /login`` against (``^...$``)."""
    return tuple(LoginRestServlet.PATTERNS)


def login_path(path: bytes, patterns: Sequence[re.Pattern[str]] | None = None) -> bool:
    """Whether Synapse's JsonResource would dispatch ``path`` to the login servlet.

    Synapse matches the decoded path (it answers 400 for a path that is not ASCII) with
    ``pattern.match``; the query string is not part of ``request.path``.
    """
    try:
        text = path.decode("ascii")
    except UnicodeDecodeError:
        return False
    return any(p.match(text) for p in (patterns if patterns is not None else login_patterns()))
