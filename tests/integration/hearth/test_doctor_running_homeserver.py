"""`hearth doctor` against a running test homeserver: every check is ok."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.harness.server import Homeserver


def test_doctor_reports_all_ok(homeserver: Homeserver) -> None:
    """With the server's own settings, each check (database on both engines) says ok."""
    argv = [sys.executable, "-m", "hearth.cli", "doctor", "--profile", homeserver.profile,
            "--data-dir", str(homeserver.data_dir), "--set", f"server.port={homeserver.port}",
            "--set", f"metrics.port={homeserver.metrics_port}"]
    for assignment in homeserver.settings:
        argv += ["--set", assignment]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False,
                            env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "ok       settings", "ok       database", "ok       redis", "ok       homeserver",
        "ok       model endpoint", "ok       mail server"]
    assert f"http://127.0.0.1:{homeserver.port} is up" in result.stdout
    if homeserver.engine == "postgres":
        assert "(UTF8, C)" in result.stdout
