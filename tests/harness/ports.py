"""Free loopback ports for the processes a test starts."""

from __future__ import annotations

import random
import socket

from devtools.ports import free_port

__all__ = ["free_port", "free_port_block"]


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive free ports, outside the ephemeral range."""
    for _ in range(200):
        base = random.randrange(20000, 30000 - count)
        if all(_is_free(base + offset) for offset in range(count)):
            return base
    raise RuntimeError(f"no block of {count} free ports found")


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
