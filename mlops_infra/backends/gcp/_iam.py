"""Least-privilege identities: one service account per workload, roles scoped to resources."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
from pulumi_gcp import serviceaccount, storage

from mlops_infra.backends.gcp._naming import account_id
from mlops_infra.backends.gcp._scope import AnyContext, project_id
from mlops_infra.registry import resolve_sdk_names_on_demand
from mlops_infra.resources.artifact_store import bucket_of

resolve_sdk_names_on_demand()

__all__ = [
    "MLFLOW_ROOT",
    "OBJECT_USER",
    "OBJECT_VIEWER",
    "bucket_member",
    "bucket_name",
    "object_prefix",
    "prefix_condition",
    "service_account",
]

MLFLOW_ROOT = "mlflow"
"""MLflow's artifact root under the store (the tracking server's default artifact root)."""

OBJECT_USER = "roles/storage.objectUser"
"""Read, write and delete objects (no IAM, no bucket settings)."""

OBJECT_VIEWER = "roles/storage.objectViewer"
"""Read and list objects."""


def service_account(ctx: AnyContext, role: str, purpose: str) -> serviceaccount.Account:
    """Creates the dedicated service account of ``role`` in the component (``<name>-<role>-sa``).

    It holds no project-wide roles; each use grants it a role on one resource.
    """
    return serviceaccount.Account(
        ctx.child_name(f"{role}-sa"),
        account_id=account_id(ctx, role),
        display_name=f"{ctx.name} {role}"[:100],
        description=f"mlops-infra: {purpose} ({ctx.stack_name})"[:256],
        project=project_id(),
        opts=ctx.opts(),
    )


def bucket_name(uri: pulumi.Input[str]) -> pulumi.Output[str]:
    """Returns the bucket of a ``gs://`` store URI."""
    return pulumi.Output.from_input(uri).apply(bucket_of)


def object_prefix(uri: str, *parts: str) -> str:
    """Returns the object prefix of ``parts`` under a ``gs://bucket[/path]`` store URI.

    ``object_prefix("gs://b/ml", "mlflow")`` is ``ml/mlflow/``: a trailing slash, so that a
    condition on it never covers a sibling (``mlflow-old/``).
    """
    path = uri.split("://", 1)[-1].partition("/")[2].strip("/")
    return "".join(f"{part.strip('/')}/" for part in (path, *parts) if part.strip("/"))


def prefix_condition(bucket: str, prefixes: Sequence[str]) -> str:
    """Returns the IAM Condition expression admitting objects under ``prefixes`` only.

    Object requests name ``projects/_/buckets/<bucket>/objects/<object>``; listing names the
    bucket itself, which stays allowed (names, not contents: gcsfuse and MLflow list
    directories) (https://cloud.google.com/storage/docs/access-control/iam#conditions,
    https://cloud.google.com/iam/docs/conditions-attribute-reference#resource-name).
    """
    root = f"projects/_/buckets/{bucket}"
    clauses = [f'resource.name == "{root}"']
    clauses += [f'resource.name.startsWith("{root}/objects/{prefix}")' for prefix in prefixes]
    return " || ".join(clauses)


def bucket_member(
    ctx: AnyContext,
    role_name: str,
    uri: pulumi.Input[str],
    account: serviceaccount.Account,
    role: str,
    *,
    prefixes: pulumi.Input[Sequence[str]] | None = None,
) -> storage.BucketIAMMember:
    """Grants ``account`` the ``role`` on the store's bucket only (``<name>-<role_name>``).

    With ``prefixes`` (relative to the bucket) the grant holds for objects under them only,
    by an IAM Condition (buckets with uniform bucket-level access, as the stack's are).
    """
    condition: pulumi.Input[storage.BucketIAMMemberConditionArgs] | None = None
    if prefixes is not None:
        expression = pulumi.Output.all(bucket_name(uri), prefixes).apply(
            lambda values: prefix_condition(str(values[0]), [str(p) for p in values[1]])
        )
        condition = storage.BucketIAMMemberConditionArgs(
            title=f"{role_name} prefixes"[:100],
            description="mlops-infra: only the objects this identity needs",
            expression=expression,
        )
    return storage.BucketIAMMember(
        ctx.child_name(role_name),
        bucket=bucket_name(uri),
        role=role,
        member=account.member,
        condition=condition,
        opts=ctx.opts(),
    )
