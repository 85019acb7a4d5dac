"""Supervised processes create private files whatever umask `hearth run` was started with."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.processes import wait_until_ready
from hearth.supervisor import ProcessSpec, Supervisor
from tests.unit.hearth.supervised import python


@pytest.fixture(params=[0o022, 0o002, 0o000], ids=["umask022", "umask002", "umask000"])
def loose_umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The supervisor's own umask, as an operator's shell may leave it."""
    previous = os.umask(request.param)
    yield int(request.param)
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_child_files_private_under_loose_umask(tmp_path: Path, loose_umask: int) -> None:
    """A child's new files and directories, and its log file, are its owner's only."""
    made = tmp_path / "made"
    code = (f"import os, pathlib; d = pathlib.Path({str(made)!r}); d.mkdir(); "
            "(d / 'file').write_text('x'); print('umask', oct(os.umask(0)), flush=True); "
            "import time; time.sleep(60)")
    log = tmp_path / "logs" / "child.out"
    supervisor = Supervisor()
    supervisor.start(ProcessSpec("child", python(code), log))
    try:
        child = supervisor.running[0].process
        assert wait_until_ready(child, lambda: "umask" in log.read_text(), 30), log.read_text()
        assert (_mode(made), _mode(made / "file")) == (0o700, 0o600)
        assert (_mode(log), _mode(log.parent)) == (0o600, 0o700)
    finally:
        supervisor.stop_all()
    assert "umask 0o77" in log.read_text()
    assert os.umask(loose_umask) == loose_umask  # the supervisor's own umask is left alone
