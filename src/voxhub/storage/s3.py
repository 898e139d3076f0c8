"""Files in an S3-compatible object store (AWS S3, MinIO, Ceph, R2, ...), through boto3.

Needs the ``[s3]`` extra. The endpoint and credentials come from boto3's own configuration:
``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``), ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY`` (or any other source boto3 knows: profiles, instance roles), and the
region from ``AWS_REGION`` (or boto3's own ``AWS_DEFAULT_REGION``).

One client is made per storage and shared by every thread (boto3 clients are thread-safe;
sessions are not, so none is kept).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from voxhub.storage.base import Storage, checked
from voxhub.storage.layout import media_type

__all__ = ["S3Storage"]

_MAX_PRESIGN_SECONDS = 7 * 86400  # SigV4's limit


def _missing(error: Any) -> bool:
    """A ClientError that says "no such object" (HEAD answers a bare 404, GET NoSuchKey)."""
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


class S3Storage(Storage):
    """Objects ``<prefix>/<key>`` in ``bucket``.

    ``page_size`` is the most keys listed (and deleted) per request: 1000, S3's limit, unless
    a test wants to see the paging.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        page_size: int = 1000,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 5,
        max_connections: int = 32,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 storage needs a bucket")
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._page_size = page_size
        self._client = self._make_client(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # "standard": exponential backoff with jitter on throttling, 5xx and connection
            # errors; max_attempts counts the first try.
            retries={"mode": "standard", "max_attempts": max_attempts},
            max_pool_connections=max_connections,
            # SigV4 everywhere (presigned links too; SigV2 is deprecated). With a custom
            # endpoint (MinIO, Ceph, moto, ...) botocore addresses the bucket in the path.
            signature_version="s3v4",
        )

    @staticmethod
    def _make_client(**options: Any) -> Any:
        import boto3  # the [s3] extra
        from botocore.config import Config

        # boto3 reads AWS_DEFAULT_REGION but not AWS_REGION (which other SDKs use): pass it on.
        return boto3.session.Session().client(
            "s3", region_name=os.environ.get("AWS_REGION") or None, config=Config(**options)
        )

    def close(self) -> None:
        self._client.close()

    def _object(self, key: str) -> str:
        checked(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _folder(self, prefix: str) -> str:
        folder = checked(f"{prefix}/x.xx")[:-4]  # "<folder>/", checked as LocalStorage does
        return f"{self.prefix}/{folder}" if self.prefix else folder

    def put(self, key: str, data: bytes) -> None:
        # A PUT replaces the object whole: readers see the old or the new one, never a part.
        self._client.put_object(
            Bucket=self.bucket, Key=self._object(key), Body=data, ContentType=media_type(key)
        )

    def read(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        with response["Body"] as body:
            data: bytes = body.read()
        return data

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._object(key))  # idempotent

    def _pages(self, folder: str) -> Iterator[list[dict[str, Any]]]:
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket, Prefix=folder, PaginationConfig={"PageSize": self._page_size}
        )
        for page in pages:
            yield page.get("Contents", [])

    def _delete_batch(self, names: list[str]) -> None:
        if not names:
            return
        response = self._client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": name} for name in names], "Quiet": True},
        )
        errors = response.get("Errors") or []
        if errors:
            first = errors[0]
            raise OSError(
                f"S3 refused to delete {len(errors)} object(s), e.g. {first.get('Key')!r}: "
                f"{first.get('Code')} {first.get('Message')}"
            )

    def delete_folder(self, prefix: str) -> None:
        # Each listed page (at most 1000 keys) is one DeleteObjects call. Listing goes on after
        # the last key seen, so deleting what was listed does not disturb it.
        for contents in self._pages(self._folder(prefix)):
            self._delete_batch([item["Key"] for item in contents])

    def delete_older_than(self, prefix: str, cutoff: float) -> int:
        removed = 0
        for contents in self._pages(self._folder(prefix)):
            old = [item["Key"] for item in contents if item["LastModified"].timestamp() < cutoff]
            self._delete_batch(old)
            removed += len(old)
        return removed

    def presigned_url(self, key: str, expires_in: int) -> str | None:
        """A GET URL the object store serves for ``expires_in`` seconds (at most 7 days)."""
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._object(key),
                "ResponseContentType": media_type(key),
            },
            ExpiresIn=max(1, min(int(expires_in), _MAX_PRESIGN_SECONDS)),
        )
        return url

    def presigned_upload(
        self, key: str, expires_in: int, content_type: str, size_bytes: int
    ) -> str | None:
        """A PUT URL with the type and length signed in, so the store refuses other bytes."""
        url: str = self._client.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._object(key),
                "ContentType": content_type,
                "ContentLength": size_bytes,
            },
            ExpiresIn=max(1, min(int(expires_in), _MAX_PRESIGN_SECONDS)),
        )
        return url
