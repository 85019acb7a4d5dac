"""The key file: 32 random bytes in base64, anything else refused with a clear reason."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from hearth.media_repo.storage.encryption import KeyFileError, load_key


def test_key_file_of_32_bytes_in_base64_loads(tmp_path: Path) -> None:
    """The file as `head -c 32 /dev/urandom | base64` writes it (with a newline)."""
    key = os.urandom(32)
    path = tmp_path / "key"
    path.write_text(base64.b64encode(key).decode() + "\n")
    assert load_key(path) == key


@pytest.mark.parametrize("content", ["", "not base64!", base64.b64encode(b"short").decode(),
                                     base64.b64encode(bytes(range(64))).decode()])
def test_key_file_with_wrong_content_refused(tmp_path: Path, content: str) -> None:
    """Empty, not base64, or not 32 bytes: KeyFileError naming the file."""
    path = tmp_path / "key"
    path.write_text(content)
    with pytest.raises(KeyFileError, match="32 random bytes"):
        load_key(path)


def test_key_file_missing_refused(tmp_path: Path) -> None:
    """A key file that is not there: KeyFileError naming the file."""
    with pytest.raises(KeyFileError, match="cannot read"):
        load_key(tmp_path / "nope")
