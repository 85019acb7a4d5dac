"""An S3-compatible server for the tests: moto behind devtools/s3_server.py's checking front.

One per session (``s3_server``). ``bucket()`` makes a fresh bucket; ``settings(bucket)`` are
the hearth settings that put a homeserver's media there (``server_pool.get(engine,
settings)``). Tests that need S3 to go away call ``stop_front()`` / ``start_front()`` (the
objects stay); presigned URLs are checked for signature and expiry as S3 checks them.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.s3_server import S3Server


class SessionS3(S3Server):
    """The session's S3 server, with credential files and bucket and settings helpers."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self._names = itertools.count(1)
        self.key_id_file, self.secret_file = self.write_credentials(workdir / "credentials")

    def bucket(self, hint: str = "media") -> str:
        """A new, empty bucket."""
        return self.create_bucket(f"{hint}-{next(self._names)}-{secrets.token_hex(3)}")

    def settings(self, bucket: str, *extra: str) -> tuple[str, ...]:
        """hearth settings that store a homeserver's media in ``bucket``."""
        return ("media.storage=s3", f"media.s3.endpoint_url={self.endpoint_url}",
                f"media.s3.bucket={bucket}", f"media.s3.access_key_id_file={self.key_id_file}",
                f"media.s3.secret_access_key_file={self.secret_file}", *extra)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """The keys in ``bucket`` under ``prefix``."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                        Prefix=prefix)
        return [str(item["Key"]) for page in pages for item in page.get("Contents", ())]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionS3]:
    """moto's S3 on loopback behind the checking front, for the whole session."""
    server = SessionS3(tmp_path_factory.mktemp("s3"))
    server.start()
    yield server
    server.stop()
