"""S3 artifact store: private, versioned, SSE-KMS with a rotating key, lifecycle, TLS only.

Children of the ``ArtifactStore`` component ``<name>``:

===========================================  =====================================
``<name>`` s3.Bucket                         stateful (protect + retain in prod)
``<name>-key`` kms.Key (+ ``-key-alias``)     unless ``encryption_key`` is given
``<name>-public-access`` PublicAccessBlock    all four flags on
``<name>-ownership`` OwnershipControls        ``BucketOwnerEnforced`` (ACLs off)
``<name>-versioning`` BucketVersioning        ``Enabled`` (``Suspended`` if turned off)
``<name>-encryption`` SSE configuration       ``aws:kms`` with the key, bucket keys on
``<name>-lifecycle`` LifecycleConfiguration   spec rules + noncurrent versions + multipart
``<name>-policy`` BucketPolicy                deny any request without TLS
``<name>-object-lock`` ObjectLockConfig       with ``object_lock_days`` (governance mode)
``<name>-logs`` (+ its own settings)          with ``access_logging``
===========================================  =====================================

Changing lifecycle days, tags or logging updates in place; only ``bucket_name`` (the
physical name) replaces the bucket. Object lock is enabled through its own resource, so
turning it on later never replaces the bucket either.
"""

from __future__ import annotations

import pulumi
from pulumi_aws import s3

from mlops_infra.backends.aws._iam import ArgsT, Statement
from mlops_infra.backends.aws._naming import bucket_prefix
from mlops_infra.backends.aws._scope import AwsScope
from mlops_infra.backends.aws.foundation import create_key
from mlops_infra.backends.aws.options import S3StoreOptions
from mlops_infra.errors import BackendError
from mlops_infra.outputs import concat
from mlops_infra.registry import resolve_sdk_names_on_demand
from mlops_infra.resources import ArtifactStoreArgs, ArtifactStoreBackend, BuildContext, StoreRef
from mlops_infra.specs import ArtifactStoreSpec, ExistingArtifactStore

resolve_sdk_names_on_demand()

__all__ = ["S3ArtifactStore", "harden_bucket", "tls_only_statement"]


def tls_only_statement(bucket_arn: pulumi.Input[str]) -> Statement:
    """Denies every request that is not over TLS (the canonical ``aws:SecureTransport`` guard).

    This ``Deny`` is the one place ``s3:*`` appears: it restricts, it grants nothing.
    """
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def harden_bucket(
    ctx: BuildContext[ArgsT], scope: AwsScope, role: str | None, bucket: s3.Bucket
) -> None:
    """Blocks all public access and turns ACLs off (object ownership enforced)."""
    prefix = f"{role}-" if role else ""
    s3.BucketPublicAccessBlock(
        ctx.child_name(f"{prefix}public-access"),
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=ctx.opts(),
        region=scope.region_override,
    )
    s3.BucketOwnershipControls(
        ctx.child_name(f"{prefix}ownership"),
        bucket=bucket.id,
        rule=s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=ctx.opts(),
        region=scope.region_override,
    )


def _rule(
    rule_id: str,
    prefix: str,
    *,
    expire_days: int | None = None,
    noncurrent_days: int | None = None,
    abort_multipart_days: int | None = None,
) -> s3.BucketLifecycleConfigurationRuleArgs:
    return s3.BucketLifecycleConfigurationRuleArgs(
        id=rule_id,
        status="Enabled",
        filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=prefix),
        expiration=(
            s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expire_days)
            if expire_days
            else None
        ),
        noncurrent_version_expiration=(
            s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=noncurrent_days
            )
            if noncurrent_days
            else None
        ),
        abort_incomplete_multipart_upload=(
            s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=abort_multipart_days
            )
            if abort_multipart_days
            else None
        ),
    )


def lifecycle_rules(
    spec: ArtifactStoreSpec, options: S3StoreOptions
) -> list[s3.BucketLifecycleConfigurationRuleArgs]:
    """The spec's rules, then superseded versions and incomplete uploads for every object."""
    rules = [
        _rule(
            rule.name,
            rule.prefix,
            expire_days=rule.expire_after_days,
            noncurrent_days=rule.noncurrent_after_days,
        )
        for rule in spec.lifecycle
    ]
    if spec.versioning and spec.noncurrent_version_days:
        rules.append(_rule("noncurrent-versions", "", noncurrent_days=spec.noncurrent_version_days))
    rules.append(_rule("abort-multipart", "", abort_multipart_days=options.abort_multipart_days))
    return rules


class S3ArtifactStore(ArtifactStoreBackend):
    """An S3 bucket hardened by default (see the module docstring for its children)."""

    def create(self, ctx: BuildContext[ArtifactStoreArgs], spec: ArtifactStoreSpec) -> StoreRef:
        """Creates the bucket and its settings; returns ``s3://<bucket>`` and its key."""
        options = ctx.options_as(S3StoreOptions)
        scope = AwsScope.current(ctx.target.region, ctx.component)
        region = scope.region_override
        key_arn: pulumi.Input[str] = (
            spec.encryption_key
            or create_key(
                ctx,
                scope,
                "key",
                f"mlops-infra artifact store {ctx.name}",
                deletion_window_days=options.key_deletion_window_days,
            ).arn
        )
        bucket = s3.Bucket(
            ctx.child_name(),
            bucket=spec.bucket_name,
            bucket_prefix=None if spec.bucket_name else bucket_prefix(ctx.stack_name, ctx.name),
            force_destroy=spec.purge_on_delete,
            tags=ctx.tags(),
            opts=ctx.opts(stateful=True),
            region=region,
        )
        harden_bucket(ctx, scope, None, bucket)
        versioning = s3.BucketVersioning(
            ctx.child_name("versioning"),
            bucket=bucket.id,
            versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled" if spec.versioning else "Suspended"
            ),
            opts=ctx.opts(),
            region=region,
        )
        s3.BucketServerSideEncryptionConfiguration(
            ctx.child_name("encryption"),
            bucket=bucket.id,
            rules=[
                s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=key_arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=ctx.opts(),
            region=region,
        )
        s3.BucketLifecycleConfiguration(
            ctx.child_name("lifecycle"),
            bucket=bucket.id,
            rules=lifecycle_rules(spec, options),
            opts=ctx.opts(depends_on=[versioning]),
            region=region,
        )
        s3.BucketPolicy(
            ctx.child_name("policy"),
            bucket=bucket.id,
            policy=pulumi.Output.json_dumps(
                {"Version": "2012-10-17", "Statement": [tls_only_statement(bucket.arn)]}
            ),
            opts=ctx.opts(),
            region=region,
        )
        if spec.object_lock_days:
            s3.BucketObjectLockConfiguration(
                ctx.child_name("object-lock"),
                bucket=bucket.id,
                object_lock_enabled="Enabled",
                rule=s3.BucketObjectLockConfigurationRuleArgs(
                    default_retention=s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                        mode="GOVERNANCE", days=spec.object_lock_days
                    )
                ),
                opts=ctx.opts(depends_on=[versioning]),
                region=region,
            )
        if spec.access_logging:
            self._access_logs(ctx, scope, spec, options, bucket)
        # The id of a bucket is its name (known under mocks too, unlike the computed ``bucket``).
        return StoreRef(uri=concat("s3://", bucket.id), encryption_key=key_arn)

    @staticmethod
    def _access_logs(
        ctx: BuildContext[ArtifactStoreArgs],
        scope: AwsScope,
        spec: ArtifactStoreSpec,
        options: S3StoreOptions,
        bucket: s3.Bucket,
    ) -> None:
        # Server access logs can only be delivered to SSE-S3 buckets (not SSE-KMS).
        region = scope.region_override
        logs = s3.Bucket(
            ctx.child_name("logs"),
            bucket_prefix=bucket_prefix(ctx.stack_name, f"{ctx.name}-logs"),
            force_destroy=spec.purge_on_delete,
            tags=ctx.tags({"mlops-purpose": "access-logs"}),
            opts=ctx.opts(stateful=True),
            region=region,
        )
        harden_bucket(ctx, scope, "logs", logs)
        s3.BucketServerSideEncryptionConfiguration(
            ctx.child_name("logs-encryption"),
            bucket=logs.id,
            rules=[
                s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=ctx.opts(),
            region=region,
        )
        s3.BucketLifecycleConfiguration(
            ctx.child_name("logs-lifecycle"),
            bucket=logs.id,
            rules=[
                _rule("expire-logs", "", expire_days=options.access_log_days),
                _rule("abort-multipart", "", abort_multipart_days=options.abort_multipart_days),
            ],
            opts=ctx.opts(),
            region=region,
        )
        delivery: Statement = {
            "Sid": "S3ServerAccessLogsDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": concat(logs.arn, "/access/*"),
            "Condition": {
                "ArnLike": {"aws:SourceArn": bucket.arn},
                "StringEquals": {"aws:SourceAccount": scope.account_id},
            },
        }
        s3.BucketPolicy(
            ctx.child_name("logs-policy"),
            bucket=logs.id,
            policy=pulumi.Output.json_dumps(
                {"Version": "2012-10-17", "Statement": [delivery, tls_only_statement(logs.arn)]}
            ),
            opts=ctx.opts(),
            region=region,
        )
        s3.BucketLogging(
            ctx.child_name("access-logging"),
            bucket=bucket.id,
            target_bucket=logs.id,
            target_prefix="access/",
            opts=ctx.opts(),
            region=region,
        )

    def adopt(
        self, ctx: BuildContext[ArtifactStoreArgs], existing: ExistingArtifactStore
    ) -> StoreRef:
        """Uses an existing bucket (``s3://`` only); creates nothing."""
        if not existing.uri.startswith("s3://"):
            msg = f"the aws cloud can only adopt s3:// stores; got {existing.uri!r}"
            raise BackendError(msg)
        return super().adopt(ctx, existing)
