"""What training jobs and pipeline steps share: identity, tracking access, image, lineage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
from pulumi_gcp import serviceaccount

from mlops_infra.backends.gcp._cloudrun import grant_invoker
from mlops_infra.backends.gcp._iam import (
    MLFLOW_ROOT,
    OBJECT_USER,
    bucket_member,
    object_prefix,
    service_account,
)
from mlops_infra.backends.gcp._image_builder import context_image
from mlops_infra.backends.gcp._platform import AnyContext, fmt
from mlops_infra.backends.gcp._project import project_number
from mlops_infra.backends.gcp._secrets import StoredSecret, store_secret
from mlops_infra.backends.gcp.entrypoint import RUNTIME_REQUIREMENTS
from mlops_infra.images import WorkloadImages, component_requirements, runtime_source
from mlops_infra.resources import FoundationRef, StoreRef, TrackingRef
from mlops_infra.versioning import VersionManifest

__all__ = [
    "Workload",
    "lineage_tags",
    "vertex_network",
    "workload_identity",
    "workload_images",
]


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
    package_root: str,
) -> Workload:
    """Creates the workload's service account and its grants.

    It may read and write objects under its own packages (``package_root``, e.g.
    ``pipelines/churn``: code, data, step outputs) and MLflow's artifact root
    (``<store>/mlflow``), nothing else of the bucket; read its own copy of the tracking
    password (the server's workload user's where it has one, see
    :mod:`~mlops_infra.backends.gcp.mlflow_users`), and invoke the tracking service.
    """
    account = service_account(ctx, "runner", purpose)
    prefixes = pulumi.Output.from_input(store.uri).apply(
        # Packages are published at the bucket's root (_package.package_prefix).
        lambda uri: [object_prefix(uri, MLFLOW_ROOT), f"{package_root.strip('/')}/"]
    )
    grants: list[pulumi.Resource] = [
        bucket_member(ctx, "runner-artifacts", store.uri, account, OBJECT_USER, prefixes=prefixes)
    ]
    env: dict[str, pulumi.Input[str]] = {"MLFLOW_TRACKING_URI": tracking.url}
    # The server's own workload user where it has one (never the deployer's admin).
    own = tracking.workload_username is not None
    username = tracking.workload_username if own else tracking.username
    secret = tracking.workload_password if own else tracking.password
    if username is not None:
        env["MLFLOW_TRACKING_USERNAME"] = username  # pyright: ignore[reportArgumentType] - set only when present
    password: StoredSecret | None = None
    if secret is not None:
        password = store_secret(
            ctx,
            "tracking-password",
            secret,  # pyright: ignore[reportArgumentType] - checked just above
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


def workload_images(
    ctx: AnyContext,
    manifest: VersionManifest,
    *,
    foundation: FoundationRef | None,
    store_uri: pulumi.Input[str],
    source_dir: Path,
    named: Sequence[str | None],
) -> WorkloadImages:
    """Builds the runtime image when one of the ``named`` images is missing.

    The runtime (see :func:`~mlops_infra.images.runtime_source`) carries mlops-infra, its
    dependencies, Google's auth libraries and the requirement files among the version's
    code; Cloud Build builds it (``<name>-runtime-context``, ``<name>-builder-sa``,
    ``<name>-runtime-image``; ``<registry>/runtime:runtime-<content hash>``).

    Raises:
        BackendError: an image is needed and the stack has no registry.
    """
    if all(named):
        return WorkloadImages(runtime=None)
    source = runtime_source(component_requirements(manifest.code, source_dir), RUNTIME_REQUIREMENTS)
    runtime = context_image(
        ctx, foundation, store_uri, source,
        what="the runtime image",
        instead=(
            "set image on the job or step, or options.default_image on the flavor (an image "
            "with mlops-infra, mlflow, google-auth and the components' dependencies)"
        ),
    )  # fmt: skip
    return WorkloadImages(runtime=runtime)


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
