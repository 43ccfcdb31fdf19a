"""What training jobs and pipeline steps share: identity, tracking access, image, lineage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

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
from mlops_infra.backends.gcp._naming import fmt
from mlops_infra.backends.gcp._scope import AnyContext, project_number
from mlops_infra.backends.gcp._secrets import GeneratedPassword, StoredSecret, store_secret
from mlops_infra.backends.gcp.container_entry import RUNTIME_REQUIREMENTS
from mlops_infra.backends.gcp.mlflow_users import MlflowWorkloadUser, workload_username
from mlops_infra.errors import BackendError
from mlops_infra.images import WorkloadImages, component_requirements, runtime_source
from mlops_infra.resources import FoundationRef, StoreRef, TrackingRef
from mlops_infra.versioning import VersionManifest

__all__ = [
    "MlflowTarget",
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
    mlflow: MlflowTarget,
) -> Workload:
    """Creates the workload's service account and its grants.

    It may read and write objects under its own packages (``package_root``, e.g.
    ``pipelines/churn``: code, data, step outputs) and MLflow's artifact root
    (``<store>/mlflow``), nothing else of the bucket; read its tracking password, and
    invoke the tracking service. Where the server gives workloads their own users
    (``TrackingRef.workload_users``), that password is the workload's own MLflow user's
    (``<name>-mlflow-user``, ``EDIT`` on ``mlflow``'s experiment and model only, see
    :mod:`~mlops_infra.backends.gcp.mlflow_users`), never the admin's.
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
    username: pulumi.Input[str | None]
    secret: pulumi.Input[str | None]
    if tracking.workload_users:
        # Its own user, written by the deployer's `up` before the workload can start.
        username, secret, user = _own_user(ctx, tracking, mlflow)
        grants.append(user)
    elif tracking.workload_username is not None:
        # The server's shared workload user (never the deployer's admin).
        username, secret = tracking.workload_username, tracking.workload_password
    else:
        username, secret = tracking.username, tracking.password
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


@dataclass(frozen=True)
class MlflowTarget:
    """What a workload writes in MLflow: its own user's name, experiment and model.

    Attributes:
        kind: ``job`` or ``pipeline`` (part of the user name: the two may share a name).
        name: The job's or pipeline's name, also its experiment (the entrypoint's).
        model: The registered model it registers versions of.
    """

    kind: Literal["job", "pipeline"]
    name: str
    model: str


def _own_user(
    ctx: AnyContext, tracking: TrackingRef, target: MlflowTarget
) -> tuple[pulumi.Output[str], pulumi.Output[str], MlflowWorkloadUser]:
    """Declares the workload's own MLflow user; returns its name, password and resource."""
    if tracking.username is None or tracking.password is None:
        msg = (
            f"{ctx.name}: the tracking server gives each workload its own MLflow user but "
            "names no admin to create it with (TrackingRef.username and password)"
        )
        raise BackendError(msg)
    password = pulumi.Output.secret(
        GeneratedPassword(ctx.child_name("mlflow-password"), 24, ctx.opts()).value
    )
    user = MlflowWorkloadUser(
        ctx.child_name("mlflow-user"),
        tracking_url=tracking.url,
        admin_username=tracking.username,  # pyright: ignore[reportArgumentType] - checked above
        admin_password=tracking.password,  # pyright: ignore[reportArgumentType] - checked above
        client_auth=tracking.client_auth,
        username=workload_username(target.kind, target.name),
        password=password,
        experiment=target.name,
        model=target.model,
        opts=ctx.opts(),
    )
    return user.username, password, user


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
