"""Least-privilege identities: one service account per workload, roles scoped to resources."""

from __future__ import annotations

import pulumi
from pulumi_gcp import serviceaccount, storage

from mlops_infra.backends.gcp._platform import AnyContext, account_id, project_id
from mlops_infra.backends.gcp._sdk import load_quietly
from mlops_infra.resources.artifact_store import bucket_of

load_quietly(storage)

__all__ = [
    "OBJECT_USER",
    "OBJECT_VIEWER",
    "bucket_member",
    "bucket_name",
    "service_account",
]

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


def bucket_member(
    ctx: AnyContext,
    role_name: str,
    uri: pulumi.Input[str],
    account: serviceaccount.Account,
    role: str,
) -> storage.BucketIAMMember:
    """Grants ``account`` the ``role`` on the store's bucket only (``<name>-<role_name>``)."""
    return storage.BucketIAMMember(
        ctx.child_name(role_name),
        bucket=bucket_name(uri),
        role=role,
        member=account.member,
        opts=ctx.opts(),
    )
