"""Where in the artifact store a workload reads and writes: bucket, key prefixes, ARNs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from mlops_infra.backends.aws._scope import AwsScope
from mlops_infra.outputs import concat
from mlops_infra.resources import BuildContext, StoreRef

__all__ = ["OBJECT_TAG_LIMIT", "StoreLocation", "object_tags", "split_s3_uri"]

OBJECT_TAG_LIMIT = 10
"""Tags S3 allows on one object
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html)."""

_OWN_TAGS = ("mlops-stack", "mlops-component", "managed-by", "mlops-environment")
_warned: set[str] = set()


def object_tags(ctx: BuildContext[Any], extra: Mapping[str, str]) -> dict[str, str]:
    """``ctx.tags(extra)`` within S3's per-object limit.

    Our tags and ``extra`` always stay; the stack's own tags fill the remaining places in
    name order, and those left off are named once per component in a warning (the bucket
    and every other resource still carry them). Passing them all would fail the upload.
    """
    tags = ctx.tags(extra)
    if len(tags) <= OBJECT_TAG_LIMIT:
        return tags
    kept = {k for k in tags if k in extra or k in _OWN_TAGS}
    others = sorted(k for k in tags if k not in kept)
    room = max(OBJECT_TAG_LIMIT - len(kept), 0)
    kept.update(others[:room])
    dropped = others[room:]
    if ctx.name not in _warned:
        _warned.add(ctx.name)
        pulumi.log.warn(
            f"{ctx.name}: S3 objects carry at most {OBJECT_TAG_LIMIT} tags; the stack tags "
            f"{', '.join(dropped)} are left off its objects"
        )
    return {k: v for k, v in tags.items() if k in kept}


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` → ``("bucket", "a/b/")``; the prefix ends in ``/`` or is empty."""
    rest = uri.split("://", 1)[-1]
    bucket, _, prefix = rest.partition("/")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


@dataclass(frozen=True)
class StoreLocation:
    """The artifact store as a workload sees it.

    Attributes:
        uri: ``s3://bucket[/prefix]``.
        bucket: Bucket name.
        base: Key prefix of the store inside the bucket (``""`` or ``prefix/``).
        bucket_arn: ``arn:<partition>:s3:::bucket``.
        key_arn: KMS key encrypting the store, if customer-managed.
    """

    uri: pulumi.Output[str]
    bucket: pulumi.Output[str]
    base: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    key_arn: pulumi.Input[str | None]

    @classmethod
    def of(cls, store: StoreRef, scope: AwsScope) -> StoreLocation:
        """Splits ``store.uri`` into bucket and base prefix."""
        uri = pulumi.Output.from_input(store.uri)
        parts = uri.apply(split_s3_uri)
        bucket = parts.apply(lambda p: p[0])
        return cls(
            uri=uri,
            bucket=bucket,
            base=parts.apply(lambda p: p[1]),
            bucket_arn=concat("arn:", scope.partition, ":s3:::", bucket),
            key_arn=store.encryption_key,
        )

    def key(self, path: str) -> pulumi.Output[str]:
        """Object key (or key prefix) of ``path`` inside the store."""
        return concat(self.base, path)

    def s3_uri(self, path: str) -> pulumi.Output[str]:
        """``s3://bucket/<base><path>``."""
        return concat("s3://", self.bucket, "/", self.base, path)

    @property
    def key_arns(self) -> list[pulumi.Input[str | None]]:
        """The store's customer-managed key (if any), as a list for :func:`kms_use`."""
        return [self.key_arn]
