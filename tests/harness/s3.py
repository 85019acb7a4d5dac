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
from tests.harness.server import Homeserver
from tests.harness.server_pool import ServerPool

# The storage integration tests' server: every file evicted from the local media store at
# once (so downloads come from S3), the reconciler every second with a short grace.
STORAGE_TEST_SETTINGS = ("media.local_cache_max=0", "media.reconcile_interval=1s",
                         "media.orphan_grace=3s")


class SessionS3(S3Server):
    """The session's S3 server, with credential files and bucket and settings helpers."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self._names = itertools.count(1)
        self._engine_buckets: dict[str, str] = {}
        self.key_id_file, self.secret_file = self.write_credentials(workdir / "credentials")

    def bucket(self, hint: str = "media") -> str:
        """A new, empty bucket."""
        return self.create_bucket(f"{hint}-{next(self._names)}-{secrets.token_hex(3)}")

    def settings(self, bucket: str, *extra: str) -> tuple[str, ...]:
        """hearth settings that store a homeserver's media in ``bucket``."""
        return ("media.storage=s3", f"media.s3.endpoint_url={self.endpoint_url}",
                f"media.s3.bucket={bucket}", f"media.s3.access_key_id_file={self.key_id_file}",
                f"media.s3.secret_access_key_file={self.secret_file}", *extra)

    def storage_homeserver(self, pool: ServerPool, engine: str) -> Homeserver:
        """The pool's homeserver on ``engine`` storing media in this server's bucket for that
        engine, with ``STORAGE_TEST_SETTINGS``."""
        bucket = self._engine_buckets.get(engine)
        if bucket is None:
            bucket = self._engine_buckets[engine] = self.bucket(f"hs-{engine}")
        return pool.get(engine, self.settings(bucket, *STORAGE_TEST_SETTINGS))

    def bucket_of(self, server: Homeserver) -> str:
        """The bucket a homeserver's settings name."""
        return next(s.split("=", 1)[1] for s in server.settings
                    if s.startswith("media.s3.bucket="))

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
