"""GCS artifact store: a private, versioned, CMEK-encrypted bucket with lifecycle and soft delete.

* Uniform bucket-level access (no object ACLs) and public access prevention ``enforced``.
* Encrypted with the given key, else the stack key, else a key of its own; GCS's
  service agent is granted that key (the bucket waits for the grant).
* Lifecycle: each spec rule expires objects under its prefix (``matches_prefixes``);
  superseded versions are deleted after ``noncurrent_version_days``; incomplete
  multipart uploads are aborted after a week.
* ``object_lock_days``: a bucket retention policy (unlocked). GCS does not allow a
  retention policy and object versioning on one bucket, so versioning is off there:
  the retention policy already forbids overwriting and deleting within the period.
* ``access_logging``: usage and storage logs go to a separate private log bucket.
* ``force_destroy`` only with ``purge_on_delete``; stateful (protected in production).
"""

from __future__ import annotations

from typing import cast

import pulumi
from pulumi_gcp import kms, storage

from mlops_infra.backends.gcp._naming import gcp_labels
from mlops_infra.backends.gcp._scope import project_id, region_of
from mlops_infra.backends.gcp.foundation import create_key
from mlops_infra.backends.gcp.options import GcsStoreOptions
from mlops_infra.errors import BackendError
from mlops_infra.registry import resolve_sdk_names_on_demand
from mlops_infra.resources import ArtifactStoreArgs, ArtifactStoreBackend, BuildContext, StoreRef
from mlops_infra.specs import ArtifactStoreSpec, ExistingArtifactStore

resolve_sdk_names_on_demand()

__all__ = ["GcsArtifactStore", "lifecycle_rules"]

_ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
#: Google's group that writes usage/storage logs into a log bucket.
_LOG_WRITER = "group:cloud-storage-analytics@google.com"
_MULTIPART_ABORT_DAYS = 7


def _delete(condition: storage.BucketLifecycleRuleConditionArgs) -> storage.BucketLifecycleRuleArgs:
    return storage.BucketLifecycleRuleArgs(
        action=storage.BucketLifecycleRuleActionArgs(type="Delete"), condition=condition
    )


def lifecycle_rules(
    spec: ArtifactStoreSpec, versioning: bool
) -> list[storage.BucketLifecycleRuleArgs]:
    """Returns the bucket's lifecycle rules for ``spec`` (``versioning``: as configured)."""
    rules: list[storage.BucketLifecycleRuleArgs] = []
    for rule in spec.lifecycle:
        prefixes = [rule.prefix] if rule.prefix else None
        if rule.expire_after_days is not None:
            rules.append(
                _delete(
                    storage.BucketLifecycleRuleConditionArgs(
                        age=rule.expire_after_days, matches_prefixes=prefixes, with_state="LIVE"
                    )
                )
            )
        if rule.noncurrent_after_days is not None and versioning:
            rules.append(
                _delete(
                    storage.BucketLifecycleRuleConditionArgs(
                        days_since_noncurrent_time=rule.noncurrent_after_days,
                        matches_prefixes=prefixes,
                        with_state="ARCHIVED",
                    )
                )
            )
    if spec.noncurrent_version_days is not None and versioning:
        rules.append(
            _delete(
                storage.BucketLifecycleRuleConditionArgs(
                    days_since_noncurrent_time=spec.noncurrent_version_days, with_state="ARCHIVED"
                )
            )
        )
    rules.append(
        storage.BucketLifecycleRuleArgs(
            action=storage.BucketLifecycleRuleActionArgs(type="AbortIncompleteMultipartUpload"),
            condition=storage.BucketLifecycleRuleConditionArgs(age=_MULTIPART_ABORT_DAYS),
        )
    )
    return rules


class GcsArtifactStore(ArtifactStoreBackend):
    """A GCS bucket (``gs://`` URI)."""

    def create(self, ctx: BuildContext[ArtifactStoreArgs], spec: ArtifactStoreSpec) -> StoreRef:
        """Creates the key grant, the optional log bucket and the bucket."""
        options = ctx.options_as(GcsStoreOptions)
        region = region_of(ctx)
        location = region.upper()
        labels = gcp_labels(ctx.tags())
        foundation = ctx.args.foundation
        given = spec.encryption_key or (foundation.encryption_key if foundation else None)
        # A foundation key given at program time names a key; None means there is none.
        key = create_key(ctx, "key", region).id if given is None else cast(pulumi.Input[str], given)
        agent = storage.get_project_service_account_output(project=project_id())
        grant = kms.CryptoKeyIAMMember(
            ctx.child_name("key-gcs"),
            crypto_key_id=key,
            role=_ENCRYPTER,
            member=agent.apply(lambda a: a.member),
            opts=ctx.opts(),
        )
        logging: storage.BucketLoggingArgs | None = None
        if spec.access_logging:
            logs = self._log_bucket(
                ctx, location=location, key=key, options=options, grant=grant, labels=labels
            )
            logging = storage.BucketLoggingArgs(log_bucket=logs.name, log_object_prefix="access/")
        locked = spec.object_lock_days is not None
        versioning = spec.versioning and not locked
        bucket = storage.Bucket(
            ctx.child_name(),
            name=spec.bucket_name,
            location=location,
            project=project_id(),
            storage_class=options.storage_class,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=storage.BucketVersioningArgs(enabled=versioning),
            lifecycle_rules=lifecycle_rules(spec, versioning=versioning),
            soft_delete_policy=storage.BucketSoftDeletePolicyArgs(
                retention_duration_seconds=options.soft_delete_days * 86400
            ),
            encryption=storage.BucketEncryptionArgs(default_kms_key_name=key),
            logging=logging,
            retention_policy=(
                storage.BucketRetentionPolicyArgs(
                    # The provider takes the period as a string of seconds.
                    retention_period=str(spec.object_lock_days * 86400),
                    is_locked=False,
                )
                if spec.object_lock_days is not None
                else None
            ),
            force_destroy=spec.purge_on_delete,
            labels=labels,
            opts=ctx.opts(stateful=True, depends_on=[grant]),
        )
        # The id of a bucket is its name (and it is known under mocks too).
        return StoreRef(uri=bucket.id.apply(lambda name: f"gs://{name}"), encryption_key=key)

    @staticmethod
    def _log_bucket(
        ctx: BuildContext[ArtifactStoreArgs],
        *,
        location: str,
        key: pulumi.Input[str],
        options: GcsStoreOptions,
        grant: kms.CryptoKeyIAMMember,
        labels: dict[str, str],
    ) -> storage.Bucket:
        logs = storage.Bucket(
            ctx.child_name("logs"),
            location=location,
            project=project_id(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=storage.BucketVersioningArgs(enabled=True),
            lifecycle_rules=[
                _delete(storage.BucketLifecycleRuleConditionArgs(age=options.log_retention_days)),
                _delete(
                    storage.BucketLifecycleRuleConditionArgs(
                        days_since_noncurrent_time=30, with_state="ARCHIVED"
                    )
                ),
            ],
            encryption=storage.BucketEncryptionArgs(default_kms_key_name=key),
            force_destroy=False,
            labels=labels,
            opts=ctx.opts(stateful=True, depends_on=[grant]),
        )
        storage.BucketIAMMember(
            ctx.child_name("logs-writer"),
            bucket=logs.name,
            role="roles/storage.objectCreator",
            member=_LOG_WRITER,
            opts=ctx.opts(),
        )
        return logs

    def adopt(
        self, ctx: BuildContext[ArtifactStoreArgs], existing: ExistingArtifactStore
    ) -> StoreRef:
        """Uses an existing bucket; only ``gs://`` stores can be adopted on GCP."""
        if not existing.uri.startswith("gs://"):
            msg = f"{ctx.name}: the gcp cloud can only adopt gs:// stores; got {existing.uri!r}"
            raise BackendError(msg)
        return super().adopt(ctx, existing)
