"""Free loopback ports for the processes a test starts."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive free ports, outside the ephemeral range."""
    import random

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
