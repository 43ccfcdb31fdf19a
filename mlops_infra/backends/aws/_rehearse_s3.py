"""Object operations rehearse needs on the emulated S3 (what SageMaker does with S3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["EmulatedS3", "split_uri"]


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``(bucket, key)``."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class EmulatedS3:
    """Buckets and objects of the emulator, through boto3.

    Args:
        client: A boto3 S3 client of the emulator (``Any``: boto3 ships no types).
    """

    def __init__(self, client: Any) -> None:
        """Wraps the client."""
        self._client: Any = client
        self._buckets: set[str] = set()

    def ensure_bucket(self, bucket: str) -> None:
        """Creates ``bucket`` unless it exists."""
        if bucket not in self._buckets:
            self._client.create_bucket(Bucket=bucket)
            self._buckets.add(bucket)

    def put(self, uri: str, body: bytes) -> None:
        """Writes one object."""
        bucket, key = split_uri(uri)
        self.ensure_bucket(bucket)
        self._client.put_object(Bucket=bucket, Key=key, Body=body)

    def keys(self, uri: str) -> list[str]:
        """Keys under the prefix of ``uri`` (an ``S3Prefix`` match: any key starting with it)."""
        bucket, prefix = split_uri(uri)
        found: list[str] = []
        for page in self._client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix
        ):
            found += [str(item["Key"]) for item in page.get("Contents", [])]
        return found

    def download_prefix(self, uri: str, target: Path) -> list[Path]:
        """Copies every object under ``uri`` into ``target`` (paths relative to the prefix).

        A prefix that is a whole key (``.../model.tar.gz``) lands as its file name, as
        SageMaker's ``S3Prefix`` channels do.
        """
        bucket, prefix = split_uri(uri)
        written: list[Path] = []
        for key in self.keys(uri):
            relative = key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
            if relative.endswith("/"):
                continue
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            self._client.download_file(bucket, key, str(destination))
            written.append(destination)
        return written

    def read(self, uri: str) -> bytes:
        """One object's bytes."""
        bucket, key = split_uri(uri)
        body: Any = self._client.get_object(Bucket=bucket, Key=key)["Body"]
        return bytes(body.read())

    def upload(self, path: Path, uri: str) -> None:
        """Uploads one file."""
        bucket, key = split_uri(uri)
        self.ensure_bucket(bucket)
        self._client.upload_file(str(path), bucket, key)
