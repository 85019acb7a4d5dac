"""Run work on untrusted files in a child process with memory, CPU and wall-clock limits.

Decoders (Pillow, ffmpeg) are where hostile uploads do harm: a decompression bomb eats memory,
a crafted file loops or crashes the decoder. Running each decode in its own process, with
``RLIMIT_AS`` and ``RLIMIT_CPU`` set before it starts and a wall-clock timeout from outside,
keeps that harm away from Synapse's process: the child is killed and the upload refused.

Blocking: call it from a thread (``ModuleApi.defer_to_thread``), never on the reactor.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

FailureReason = Literal["timeout", "memory", "cpu", "crashed", "failed"]


@dataclass(frozen=True)
class Limits:
    """What one child may use."""

    memory_bytes: int = 1 << 30  # address space
    cpu_seconds: int = 20
    wall_seconds: float = 20.0
    output_bytes: int = 1 << 30  # the largest file the child may write (RLIMIT_FSIZE)


class SandboxError(Exception):
    """The child did not finish its work; ``reason`` says how it failed."""

    def __init__(self, reason: FailureReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: FailureReason = reason
        self.detail = detail


def _limiter(limits: Limits) -> Callable[[], None]:
    def apply() -> None:  # runs in the child, between fork and exec
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output_bytes, limits.output_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def _minimal_env() -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "COVERAGE_PROCESS_START", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.setdefault("PATH", "/usr/bin:/bin")
    env["OMP_NUM_THREADS"] = "1"
    return env


def run_limited(argv: Sequence[str], limits: Limits, *, stdin: bytes = b"",
                cwd: Path | None = None) -> bytes:
    """Run ``argv`` under ``limits``; its standard output, or :class:`SandboxError`."""
    try:
        child = subprocess.Popen(  # argv is ours, never a shell string
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=cwd, env=_minimal_env(),
            preexec_fn=_limiter(limits),
            close_fds=True)
    except OSError as e:
        raise SandboxError("failed", f"could not start {argv[0]}: {e}") from e
    try:
        out, err = child.communicate(stdin, timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        child.communicate()
        raise SandboxError("timeout", f"{Path(argv[0]).name} ran past "
                           f"{limits.wall_seconds:g} s") from None
    if child.returncode == 0:
        return bytes(out)
    raise SandboxError(*_failure(child.returncode, err))


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)


def _failure(returncode: int, err: bytes) -> tuple[FailureReason, str]:
    tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL) and b"MemoryError" not in err:
        return "cpu", f"used its CPU time (signal {-returncode})"
    if b"MemoryError" in err or b"Cannot allocate memory" in err or returncode == -signal.SIGSEGV:
        return "memory", f"ran out of memory ({tail[0][:200]})"
    if returncode < 0:
        return "crashed", f"killed by signal {-returncode}"
    return "failed", tail[0][:300]


def python_argv(module: str, *args: str) -> list[str]:
    """The command line that runs ``python -m module args`` with this interpreter."""
    return [sys.executable, "-m", module, *args]
