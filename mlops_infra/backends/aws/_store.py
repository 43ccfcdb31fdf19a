"""Where in the artifact store a workload reads and writes: bucket, key prefixes, ARNs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from mlops_infra.backends.aws._iam import AwsScope
from mlops_infra.resources import StoreRef

__all__ = ["StoreLocation", "split_s3_uri"]


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
            bucket_arn=pulumi.Output.concat("arn:", scope.partition, ":s3:::", bucket),
            key_arn=store.encryption_key,
        )

    def key(self, path: str) -> pulumi.Output[str]:
        """Object key (or key prefix) of ``path`` inside the store."""
        return pulumi.Output.concat(self.base, path)

    def s3_uri(self, path: str) -> pulumi.Output[str]:
        """``s3://bucket/<base><path>``."""
        return pulumi.Output.concat("s3://", self.bucket, "/", self.base, path)

    @property
    def key_arns(self) -> list[pulumi.Input[str | None]]:
        """The store's customer-managed key (if any), as a list for :func:`kms_use`."""
        return [self.key_arn]
