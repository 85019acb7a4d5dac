"""S3-compatible object storage (AWS, MinIO, R2, B2, moto, ...) through boto3.

One client per store, shared by the threads that call it (boto3 clients are thread-safe).
Timeouts and retries are bounded so an unreachable endpoint fails an upload within seconds
instead of hanging it; the request checksums newer botocore adds by default are sent only
where S3 requires them, which keeps the S3-compatible services that reject them working.
Every error comes out as :class:`ObjectStoreError`; a missing object is None.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from hearth.media_repo.storage.objects import ListedObject, ObjectStoreError

MISSING = {"404", "NoSuchKey", "NotFound"}
# boto3 and botocore are untyped: their constructors are used as Any.
_Config: Any = Config
_TransferConfig: Any = TransferConfig
_Session: Any = boto3.session.Session
PART_SIZE = 16 * 1024 * 1024
# A stream (the encrypting reader) is read into memory part by part: smaller parts, fewer
# held at once, so a 100 MB upload holds tens of MB, not the whole file.
STREAM_PART_SIZE = 8 * 1024 * 1024


@dataclass(frozen=True)
class S3Location:
    """Where the bucket is and how to reach it; empty credentials: boto3's default chain."""

    bucket: str
    endpoint_url: str = ""
    region: str = "us-east-1"
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    access_key_id: str = ""
    secret_access_key: str = ""
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_attempts: int = 3


def make_client(location: S3Location) -> Any:
    """A boto3 S3 client for ``location`` (SigV4, bounded timeouts and retries)."""
    config = _Config(
        region_name=location.region, signature_version="s3v4",
        s3={"addressing_style": location.addressing_style},
        connect_timeout=location.connect_timeout_s, read_timeout=location.read_timeout_s,
        retries={"max_attempts": location.max_attempts, "mode": "standard"},
        max_pool_connections=32,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    credentials: dict[str, str] = {}
    if location.access_key_id:
        credentials = {"aws_access_key_id": location.access_key_id,
                       "aws_secret_access_key": location.secret_access_key}
    session = _Session(**credentials)
    return session.client("s3", endpoint_url=location.endpoint_url or None, config=config)


def _failure(action: str, key: str, exc: Exception) -> ObjectStoreError:
    return ObjectStoreError(f"S3 {action} of {key!r} failed: {exc}")


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in MISSING


class S3ObjectStore:
    """Objects in one bucket."""

    def __init__(self, location: S3Location, client: Any = None) -> None:
        self._location = location
        self._bucket = location.bucket
        self._client = client if client is not None else make_client(location)
        self._transfer = _TransferConfig(multipart_threshold=PART_SIZE,
                                        multipart_chunksize=PART_SIZE, max_concurrency=4)
        self._stream_transfer = _TransferConfig(
            multipart_threshold=STREAM_PART_SIZE, multipart_chunksize=STREAM_PART_SIZE,
            max_concurrency=2)
        # s3transfer's setting (boto3 does not take it as an argument): parts read ahead.
        self._stream_transfer.max_in_memory_upload_chunks = 2

    def __repr__(self) -> str:
        return f"S3ObjectStore({self._location.endpoint_url or 'aws'}/{self._bucket})"

    def put_file(self, key: str, path: str, content_type: str) -> None:
        try:
            self._client.upload_file(path, self._bucket, key,
                                     ExtraArgs={"ContentType": content_type},
                                     Config=self._transfer)
        except Exception as exc:  # boto3 wraps part failures in its own error types
            raise _failure("upload", key, exc) from exc

    def put_stream(self, key: str, stream: BinaryIO, content_type: str) -> None:
        try:
            self._client.upload_fileobj(stream, self._bucket, key,
                                        ExtraArgs={"ContentType": content_type},
                                        Config=self._stream_transfer)
        except ObjectStoreError:
            raise
        except Exception as exc:  # boto3 wraps part failures in its own error types
            raise _failure("upload", key, exc) from exc

    def open(self, key: str) -> BinaryIO | None:
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise _failure("download", key, exc) from exc
        except BotoCoreError as exc:
            raise _failure("download", key, exc) from exc
        return cast(BinaryIO, _Body(answer["Body"], key))

    def head(self, key: str) -> int | None:
        try:
            answer = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise _failure("head", key, exc) from exc
        except BotoCoreError as exc:
            raise _failure("head", key, exc) from exc
        return int(answer["ContentLength"])

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise _failure("delete", key, exc) from exc

    def list(self, prefix: str) -> Iterator[ListedObject]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                for item in page.get("Contents", ()):
                    yield ListedObject(str(item["Key"]), int(item["Size"]),
                                       int(item["LastModified"].timestamp() * 1000))
        except (BotoCoreError, ClientError) as exc:
            raise _failure("list", prefix, exc) from exc

    def abort_stale_uploads(self, prefix: str, started_before_ms: int) -> int:
        """Abort multipart uploads under ``prefix`` begun before the cutoff (left by an upload
        that failed half-way, e.g. S3 going away): their parts are stored and billed but
        belong to no object. How many were aborted."""
        aborted = 0
        paginator = self._client.get_paginator("list_multipart_uploads")
        try:
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                for upload in page.get("Uploads", ()):
                    if upload["Initiated"].timestamp() * 1000 >= started_before_ms:
                        continue
                    self._client.abort_multipart_upload(Bucket=self._bucket,
                                                        Key=upload["Key"],
                                                        UploadId=upload["UploadId"])
                    aborted += 1
        except (BotoCoreError, ClientError) as exc:
            raise _failure("abort of stale uploads", prefix, exc) from exc
        return aborted

    def presign_get(self, key: str, lifetime_s: int, *, content_type: str,
                    content_disposition: str, cache_control: str) -> str | None:
        params = {"Bucket": self._bucket, "Key": key, "ResponseContentType": content_type,
                  "ResponseContentDisposition": content_disposition,
                  "ResponseCacheControl": cache_control}
        try:
            return str(self._client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=lifetime_s))
        except (BotoCoreError, ClientError) as exc:
            raise _failure("presign", key, exc) from exc


class _Body:
    """An object's streaming body whose read errors are ObjectStoreErrors."""

    def __init__(self, body: Any, key: str) -> None:
        self._body = body
        self._key = key

    def read(self, size: int = -1) -> bytes:
        try:
            return bytes(self._body.read(None if size < 0 else size))
        except (BotoCoreError, OSError) as exc:
            raise _failure("download", self._key, exc) from exc

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> _Body:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
