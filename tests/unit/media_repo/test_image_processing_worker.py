"""The image worker's protocol: one JSON request in, one JSON answer out; refusals are
answers (exit 0), anything else is a failure (non-zero exit) the caller turns into a refusal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hearth.media_repo import image_processing
from hearth.media_repo.errors import MediaRejected
from hearth.media_repo.sandbox import Limits
from tests.unit.media_repo import fixtures_images as make


def run_worker(request: dict[str, object]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", image_processing.WORKER],
                          input=json.dumps(request).encode(), capture_output=True, timeout=60,
                          check=False)


def test_clean_answer_is_one_json_object(tmp_path: Path) -> None:
    """A clean request prints the ImageInfo fields as JSON."""
    done = run_worker({"op": "clean", "src": str(make.jpeg(tmp_path / "a.jpg")),
                       "dst": str(tmp_path / "c"), "max_pixels": 10**6,
                       "max_decoded_bytes": 10**7})
    assert done.returncode == 0
    answer = json.loads(done.stdout)
    assert answer["mime"] == "image/jpeg" and answer["width"] == 64
    assert set(answer) == {"mime", "width", "height", "animated", "frames", "blurhash",
                           "rewritten", "stripped"}


def test_refusal_is_an_answer_with_exit_zero(tmp_path: Path) -> None:
    """A refused image prints {"refused", "message"} and exits 0."""
    done = run_worker({"op": "clean", "src": str(make.png_header_only(tmp_path / "b.png",
                                                                      9000, 9000)),
                       "dst": str(tmp_path / "c"), "max_pixels": 10**6,
                       "max_decoded_bytes": 10**7})
    assert done.returncode == 0
    assert json.loads(done.stdout)["refused"] == "too_large"


def test_unknown_operation_exits_non_zero(tmp_path: Path) -> None:
    """A request the worker does not know is a failure, not an answer."""
    done = run_worker({"op": "explode", "src": "x", "dst": "y"})
    assert done.returncode != 0 and b"unknown op" in done.stderr


def test_worker_failure_becomes_a_generic_refusal(tmp_path: Path) -> None:
    """A worker that fails (here: the source is missing) gives 400 processing_failed."""
    with pytest.raises(MediaRejected) as refused:
        image_processing.clean(tmp_path / "missing.png", tmp_path / "c", Limits(),
                               max_pixels=10**6, max_decoded_bytes=10**7)
    assert (refused.value.status, refused.value.reason) == (400, "processing_failed")
    assert refused.value.message.startswith("The image could not be processed")
