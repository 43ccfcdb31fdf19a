"""What training jobs and pipeline steps share: the versioned package, the role, the settings.

* :func:`publish_package`: the version's component files (and local data) uploaded under
  ``<kind>/<name>/<version>/`` in the artifact store, once per version, retained when a
  newer version replaces them (a deployed version is immutable and stays restorable).
* :func:`workload_images`: the images named, else the runtime image the stack builds.
* :func:`workload_role`: the execution role SageMaker assumes for the job or the steps,
  scoped to exactly the prefixes, data, images, logs and tracking server it uses.
* :func:`lineage_hyperparameters` / :func:`tracking_environment`: the step-entry contract.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
from pulumi_aws import s3

from mlops_infra.backends.aws._contract import (
    CODE_CHANNEL,
    HP_COMPONENT,
    HP_DATA,
    HP_EXECUTION,
    HP_FINAL,
    HP_INPUTS,
    HP_MODEL,
    HP_PARAMS,
    HP_PIPELINE,
    HP_STEP,
    HP_TAGS,
    HP_VERSION,
    PASSWORD_SECRET_ENV,
    RUNTIME_REQUIREMENTS,
    data_channel,
)
from mlops_infra.backends.aws._iam import (
    ArgsT,
    ServiceRole,
    Statement,
    ecr_pull,
    ecr_repository_arn,
    kms_grant,
    kms_use,
    logs_write,
    s3_read,
    s3_write,
    service_role,
    statement,
)
from mlops_infra.backends.aws._image_builder import PYTHON_BASE_IMAGE, context_image
from mlops_infra.backends.aws._naming import key_safe
from mlops_infra.backends.aws._scope import AwsScope, WorkloadNetwork
from mlops_infra.backends.aws._store import StoreLocation, object_tags
from mlops_infra.backends.aws.mlflow_auth import workload_actions
from mlops_infra.backends.aws.tracking_server import MLFLOW_PREFIX
from mlops_infra.errors import BackendError
from mlops_infra.images import WorkloadImages, component_requirements, runtime_source
from mlops_infra.outputs import concat
from mlops_infra.registry import resolve_sdk_names_on_demand
from mlops_infra.resources import BuildContext, FoundationRef, TrackingRef
from mlops_infra.specs import DataRef, TrainingJobSpec
from mlops_infra.specs._base import JsonScalar
from mlops_infra.versioning import VersionManifest, resolve_data_path

resolve_sdk_names_on_demand()

__all__ = [
    "TRAINING_LOG_GROUP",
    "Package",
    "WorkloadImages",
    "lineage_hyperparameters",
    "mlflow_statement",
    "network_statements",
    "publish_package",
    "tracking_environment",
    "workload_images",
    "workload_role",
]

TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
"""Log group SageMaker training jobs write to."""


def mlflow_statement(tracking: TrackingRef) -> Statement:
    """What a workload may call on its tracking server: log runs and register models.

    The recorded :data:`~mlops_infra.mlflow_rest.WORKLOAD_CALLS` (not delete, not move
    aliases: the promotion gate does that); nothing for a self-hosted server (basic auth).
    """
    url = pulumi.Output.from_input(tracking.url)
    # The key order of `statement()`, so documents serialize the same way.
    return {
        "Effect": "Allow",
        "Action": url.apply(lambda u: list(workload_actions(u))),
        "Sid": "TrackingServer",
        "Resource": url.apply(lambda u: [u] if u.startswith("arn:") else []),
    }


@dataclass(frozen=True)
class Package:
    """A version's files in the artifact store.

    Attributes:
        root: Key prefix ``<base><kind>/<name>/<version>/``.
        uri: ``s3://`` URI of ``root``.
        code_uri: ``s3://`` URI of the component files (the ``code`` channel).
        data: Data reference → ``channel:<name>`` (delivered as a channel) or its URI.
        channels: Channel name → ``s3://`` URI (code and data).
        external: ``(bucket, key prefix)`` of S3 data outside the store, read in place.
        objects: The uploaded objects (empty for a pinned, already deployed version).
    """

    root: pulumi.Output[str]
    uri: pulumi.Output[str]
    code_uri: pulumi.Output[str]
    data: dict[str, str]
    channels: dict[str, pulumi.Input[str]]
    external: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])
    objects: list[pulumi.Resource] = field(default_factory=list[pulumi.Resource])


def _files(path: Path) -> list[tuple[str, Path]]:
    if path.is_file():
        return [(path.name, path)]
    found: list[tuple[str, Path]] = []
    for directory, _, names in sorted(os.walk(path)):
        for name in sorted(names):
            file = Path(directory, name)
            found.append((file.relative_to(path).as_posix(), file))
    return found


def publish_package(
    ctx: BuildContext[ArgsT],
    scope: AwsScope,
    store: StoreLocation,
    manifest: VersionManifest,
    *,
    kind: str,
    version: str,
    source_dir: Path,
    data: Mapping[str, DataRef],
) -> Package:
    """Uploads the package of ``manifest`` (when ``version`` is its version) and maps its data.

    A pinned older ``version`` uploads nothing: its package is already in the store.
    """
    root = store.key(f"{kind}/{manifest.name}/{version}/")
    uri = concat("s3://", store.bucket, "/", root)
    upload = version == manifest.version
    objects: list[pulumi.Resource] = []
    # A package outlives the program that uploaded it: a newer version replaces these
    # resources but keeps the objects, so older versions stay deployable (rollback).
    keep = pulumi.ResourceOptions.merge(ctx.opts(), pulumi.ResourceOptions(retain_on_delete=True))

    def put(
        role: str,
        key: str,
        *,
        source: pulumi.Asset | None = None,
        content: str | None = None,
        content_type: str | None = None,
    ) -> None:
        objects.append(
            s3.BucketObjectv2(
                ctx.child_name(role),
                bucket=store.bucket,
                key=concat(root, key),
                source=source,
                content=content,
                content_type=content_type,
                tags=object_tags(ctx, {"mlops-version": version}),
                opts=keep,
                region=scope.region_override,
            )
        )

    if upload:
        for relative in sorted(manifest.code):
            put(f"code-{key_safe(relative)}", f"code/{relative}",
                source=pulumi.FileAsset(str(source_dir / relative)))  # fmt: skip
        put("manifest", "manifest.json",
            content=json.dumps(manifest.as_dict(), indent=2, sort_keys=True),
            content_type="application/json")  # fmt: skip
    mapping: dict[str, str] = {}
    channels: dict[str, pulumi.Input[str]] = {CODE_CHANNEL: concat(uri, "code/")}
    external: list[tuple[str, str]] = []
    for name, ref in sorted(data.items()):
        channel = data_channel(name)
        if ref.is_local:
            local = resolve_data_path(ref, ctx.target.project_dir)
            if upload:
                for relative, file in _files(local):
                    put(f"data-{key_safe(name)}-{key_safe(relative)}", f"data/{name}/{relative}",
                        source=pulumi.FileAsset(str(file)))  # fmt: skip
            channels[channel] = concat(uri, f"data/{name}/")
            # SageMaker delivers a channel as a folder: a file reference names its file in it.
            mapping[name] = (
                f"channel:{channel}/{local.name}" if local.is_file() else f"channel:{channel}"
            )
        elif ref.scheme == "s3":
            channels[channel] = ref.uri
            bucket, _, key = ref.uri.removeprefix("s3://").partition("/")
            external.append((bucket, key))  # an object or a prefix: read ``key*``
            mapping[name] = f"channel:{channel}"
        else:
            mapping[name] = ref.uri
    return Package(
        root=root,
        uri=uri,
        code_uri=concat(uri, "code/"),
        data=mapping,
        channels=channels,
        external=external,
        objects=objects,
    )


def workload_images(
    ctx: BuildContext[ArgsT],
    scope: AwsScope,
    store: StoreLocation,
    manifest: VersionManifest,
    *,
    foundation: FoundationRef | None,
    source_dir: Path,
    named: Sequence[str | None],
) -> WorkloadImages:
    """Builds the runtime image when one of the ``named`` images is missing.

    The runtime (see :func:`~mlops_infra.images.runtime_source`) carries mlops-infra, its
    dependencies, ``sagemaker-mlflow`` and the requirement files among the version's code;
    the stack builds it with CodeBuild (``<name>-builder``, ``<name>-runtime-context``,
    ``<name>-runtime-image``; tag ``runtime-<content hash>``).

    Raises:
        BackendError: an image is needed and the stack has no registry.
    """
    if all(named):
        return WorkloadImages(runtime=None)
    source = runtime_source(
        component_requirements(manifest.code, source_dir),
        RUNTIME_REQUIREMENTS,
        base_image=PYTHON_BASE_IMAGE,
    )
    runtime = context_image(
        ctx, scope, store, foundation, source,
        what="the runtime image",
        instead=(
            "set image: (an ECR image with mlops-infra, mlflow, boto3, sagemaker-mlflow and "
            "the components' dependencies)"
        ),
    )  # fmt: skip
    return WorkloadImages(runtime=runtime)


def tracking_environment(
    tracking: TrackingRef, password_secret: pulumi.Input[str] | None
) -> dict[str, pulumi.Input[str]]:
    """``MLFLOW_TRACKING_URI`` (an ARN for SageMaker MLflow), the user and the password's secret."""
    env: dict[str, pulumi.Input[str]] = {"MLFLOW_TRACKING_URI": tracking.url}
    if tracking.username is not None:
        env["MLFLOW_TRACKING_USERNAME"] = pulumi.Output.from_input(tracking.username).apply(
            lambda u: u or ""
        )
    if password_secret is not None:
        env[PASSWORD_SECRET_ENV] = password_secret
    return env


def lineage_hyperparameters(
    ctx: BuildContext[ArgsT],
    manifest: VersionManifest,
    *,
    pipeline: str,
    version: str,
    model_name: str,
    params: Mapping[str, JsonScalar],
    data: Mapping[str, str],
) -> dict[str, str]:
    """Hyperparameters every step carries: what it runs and its lineage tags.

    Only content hashes are recorded (not the git commit): a new commit that changes
    nothing the version depends on must not re-run a job or change a pipeline.
    """
    tags = {
        "mlops.pipeline": pipeline,
        "mlops.pipeline_version": version,
        "mlops.code_hash": manifest.code_hash,
        "mlops.config_hash": manifest.config_hash,
        "mlops.data_hash": manifest.data_hash,
        "mlops.stack": ctx.stack_name,
        "mlops.environment": ctx.target.environment,
    }
    values = {
        HP_PIPELINE: pipeline,
        HP_VERSION: version,
        HP_MODEL: model_name,
        HP_PARAMS: json.dumps(dict(params), sort_keys=True),
        HP_DATA: json.dumps(dict(data), sort_keys=True),
        HP_TAGS: json.dumps(tags, sort_keys=True),
    }
    too_long = sorted(key for key, value in values.items() if len(value) > 2500)
    if too_long:
        msg = f"{ctx.name}: {too_long} exceed SageMaker's 2500 characters per hyperparameter"
        raise BackendError(msg)
    return values


def job_hyperparameters(
    ctx: BuildContext[ArgsT],
    manifest: VersionManifest,
    spec: TrainingJobSpec,
    *,
    version: str,
    data: Mapping[str, str],
    execution: str,
) -> dict[str, str]:
    """Hyperparameters of a standalone training job: one ``train`` step, no upstream inputs."""
    return {
        **lineage_hyperparameters(
            ctx,
            manifest,
            pipeline=spec.name,
            version=version,
            model_name=spec.output_model or spec.name,
            params=spec.parameters,
            data=data,
        ),
        HP_COMPONENT: spec.component,
        HP_STEP: "train",
        HP_EXECUTION: execution,
        HP_INPUTS: json.dumps([]),
        HP_FINAL: "true",
    }


def network_statements(network: WorkloadNetwork, scope: AwsScope) -> list[Statement]:
    """Let SageMaker attach interfaces in the stack's subnets with its security groups."""
    interface = scope.arn("ec2", "network-interface/*")
    subnet = scope.arn("ec2", "subnet/")
    group = scope.arn("ec2", "security-group/")
    create = statement(["ec2:CreateNetworkInterface"], [], sid="CreateInterfaces")
    create["Resource"] = pulumi.Output.all(
        interface, subnet, group, network.subnet_ids, network.security_group_ids
    ).apply(
        lambda v: [
            str(v[0]),
            *[f"{v[1]}{subnet_id}" for subnet_id in v[3]],
            *[f"{v[2]}{group_id}" for group_id in v[4]],
        ]
    )
    return [
        create,
        statement(
            ["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
             "ec2:DeleteNetworkInterfacePermission"],
            [interface],
            sid="ManageInterfaces",
        ),
        statement(
            ["ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
             "ec2:DescribeSecurityGroups", "ec2:DescribeDhcpOptions"],
            ["*"],
            sid="DescribeNetwork",
        ),
    ]  # fmt: skip


def workload_role(
    ctx: BuildContext[ArgsT],
    scope: AwsScope,
    store: StoreLocation,
    *,
    package: Package,
    write_prefixes: Sequence[pulumi.Input[str]],
    images: Sequence[pulumi.Input[str]],
    tracking: TrackingRef,
    extra: Sequence[Statement] = (),
    network: WorkloadNetwork | None = None,
    role: str = "role",
    description: str,
    pass_self: bool = False,
) -> ServiceRole:
    """The SageMaker execution role of one workload (a job, or a pipeline and its steps)."""
    statements: list[Statement] = [
        *s3_read(store.bucket_arn, [package.root], sid="Package"),
        *s3_write(store.bucket_arn, [*write_prefixes, store.key(MLFLOW_PREFIX)], sid="Outputs"),
        *kms_use(store.key_arns),
        *kms_grant(store.key_arns),
        *ecr_pull([ecr_repository_arn(image, scope) for image in images]),
        *logs_write([scope.arn("logs", f"log-group:{TRAINING_LOG_GROUP}")]),
        statement(
            ["cloudwatch:PutMetricData"],
            ["*"],
            sid="TrainingMetrics",
            conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        ),
    ]
    for index, (bucket, prefix) in enumerate(package.external):
        statements += s3_read(scope.global_arn("s3", bucket), [prefix], sid=f"Data{index}")
    statements.append(mlflow_statement(tracking))
    if network is not None:
        statements += network_statements(network, scope)
    statements += extra
    return service_role(
        ctx,
        role,
        "sagemaker.amazonaws.com",
        scope,
        statements,
        description=description,
        pass_self_to="sagemaker.amazonaws.com" if pass_self else None,
    )
