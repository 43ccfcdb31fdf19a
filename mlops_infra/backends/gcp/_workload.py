"""What training jobs and pipeline steps share: identity, tracking access, image, lineage."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import serviceaccount

from mlops_infra import __version__
from mlops_infra.backends.gcp._cloudrun import grant_invoker
from mlops_infra.backends.gcp._iam import OBJECT_USER, bucket_member, service_account
from mlops_infra.backends.gcp._platform import AnyContext, fmt
from mlops_infra.backends.gcp._project import project_number
from mlops_infra.backends.gcp._secrets import StoredSecret, store_secret
from mlops_infra.errors import BackendError
from mlops_infra.resources import FoundationRef, StoreRef, TrackingRef
from mlops_infra.versioning import VersionManifest

__all__ = [
    "RUNTIME_IMAGE",
    "Workload",
    "lineage_tags",
    "runtime_image",
    "vertex_network",
    "workload_identity",
]

RUNTIME_IMAGE = "mlops-runtime"
"""Repository of the default workload image in the stack registry (tagged with our version)."""


@dataclass(frozen=True)
class Workload:
    """A workload's identity and how it reaches the tracking server.

    Attributes:
        account: Its service account.
        env: Environment for the container (tracking URI, user, password secret, auth mode).
        password: The tracking password in Secret Manager, when the server has one.
        depends_on: Grants the workload needs before it starts.
    """

    account: serviceaccount.Account
    env: dict[str, pulumi.Input[str]]
    password: StoredSecret | None
    depends_on: list[pulumi.Resource] = field(default_factory=list[pulumi.Resource])


def workload_identity(
    ctx: AnyContext,
    *,
    purpose: str,
    region: str,
    store: StoreRef,
    tracking: TrackingRef,
    foundation: FoundationRef | None,
    tracking_invoker: bool,
) -> Workload:
    """Creates the workload's service account and its grants.

    It may read and write objects of the artifact bucket (not change the bucket), read
    its own copy of the tracking password, and invoke the tracking service.
    """
    account = service_account(ctx, "runner", purpose)
    grants: list[pulumi.Resource] = [
        bucket_member(ctx, "runner-artifacts", store.uri, account, OBJECT_USER)
    ]
    env: dict[str, pulumi.Input[str]] = {"MLFLOW_TRACKING_URI": tracking.url}
    if tracking.username is not None:
        env["MLFLOW_TRACKING_USERNAME"] = tracking.username  # pyright: ignore[reportArgumentType] - set only when present
    password: StoredSecret | None = None
    if tracking.password is not None:
        password = store_secret(
            ctx,
            "tracking-password",
            tracking.password,  # pyright: ignore[reportArgumentType] - checked just above
            region=region,
            encryption_key=foundation.encryption_key if foundation else None,
            readers={"runner": account},
        )
        env["MLOPS_TRACKING_PASSWORD_SECRET"] = password.version_name
        grants += password.resources
    if tracking_invoker:
        grants.append(grant_invoker(ctx, "runner-tracking", tracking.url, account))
        env["MLOPS_CLOUD_RUN_AUTH"] = "1"
    return Workload(account=account, env=env, password=password, depends_on=grants)


def runtime_image(
    ctx: AnyContext, image: str | None, foundation: FoundationRef | None
) -> pulumi.Input[str]:
    """Returns ``image``, else ``<stack registry>/mlops-runtime:<mlops-infra version>``.

    Raises:
        BackendError: no image is given and the stack has no registry.
    """
    if image:
        return image
    registry = foundation.registry_url if foundation else None
    if registry is None:
        msg = (
            f"{ctx.name}: no workload image; set image on the job or step, options.default_image "
            "on the flavor, or let the stack create its container registry"
        )
        raise BackendError(msg)
    return fmt("{}/{}:{}", registry, RUNTIME_IMAGE, __version__)


def lineage_tags(ctx: AnyContext, manifest: VersionManifest) -> dict[str, str]:
    """Returns the lineage tags of the runs of ``manifest`` (see ``runtime.context``)."""
    return {
        "mlops.pipeline": manifest.name,
        "mlops.pipeline_version": manifest.version,
        "mlops.code_hash": manifest.code_hash,
        "mlops.config_hash": manifest.config_hash,
        "mlops.data_hash": manifest.data_hash,
        "mlops.stack": ctx.stack_name,
        "mlops.environment": ctx.target.environment,
    }


def vertex_network(foundation: FoundationRef | None) -> pulumi.Output[str] | None:
    """Returns the network Vertex AI peers jobs into, in the project-number form it needs."""
    if foundation is None or foundation.network_id is None:
        return None
    name = pulumi.Output.from_input(foundation.network_id).apply(
        lambda network: str(network).rsplit("/", 1)[-1]
    )
    return fmt("projects/{}/global/networks/{}", project_number(), name)
