"""The serving image of the served model version, built by the stack with CodeBuild.

``mlflow models generate-dockerfile --model-uri <artifacts>`` copies the model into the
build context and installs its dependencies when the image is *built*, so the container
downloads nothing when it starts: it runs under SageMaker network isolation (the default)
and in networks without egress. One image per model version and MLflow release, tagged
``serving-<hash>`` (ECR tags are immutable: the same content is never pushed twice).

Children of the endpoint component ``<name>``:

* ``<name>-builder`` (+ ``-builder-role``): a CodeBuild project (privileged, for Docker)
  allowed to read the model artifacts, push to the stack's repository and write its logs;
* ``<name>-image``: :class:`~mlops_infra.backends.aws.image_build.ImageBuild` of the
  served version (nothing while no version has passed the gate).

CodeBuild Docker builds: https://docs.aws.amazon.com/codebuild/latest/userguide/sample-docker.html;
``generate-dockerfile``: https://mlflow.org/docs/latest/cli.html#mlflow-models-generate-dockerfile.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import codebuild

from mlops_infra.backends.aws._iam import (
    AwsScope,
    kms_use,
    logs_write,
    s3_read,
    service_role,
    statement,
)
from mlops_infra.backends.aws._naming import physical_name
from mlops_infra.backends.aws._store import StoreLocation
from mlops_infra.backends.aws.image_build import ImageBuild
from mlops_infra.backends.aws.tracking_server import MLFLOW_PREFIX
from mlops_infra.resources import BuildContext, ServingEndpointArgs

__all__ = ["BUILDSPEC", "ServingImage", "serving_image", "serving_tag"]

BUILDSPEC = """\
version: 0.2
phases:
  install:
    commands:
      - pip install --quiet "mlflow==${MLFLOW_VERSION}" boto3
  pre_build:
    commands:
      - aws ecr get-login-password | docker login --username AWS --password-stdin "${IMAGE%%/*}"
  build:
    commands:
      - mlflow models generate-dockerfile --model-uri "${MODEL_URI}" --output-directory context
      - docker build --tag "${IMAGE}" context
      - docker push "${IMAGE}"
"""
"""What the builder runs: the model's image with its dependencies, pushed under its tag."""

_BUILD_IMAGE = "aws/codebuild/standard:7.0"


def serving_tag(source: str | None, mlflow_version: str) -> str | None:
    """``serving-<hash of the artifacts, MLflow release and buildspec>``; ``None``: no model."""
    if not source:
        return None
    digest = hashlib.sha256(f"{source}|{mlflow_version}|{BUILDSPEC}".encode()).hexdigest()
    return f"serving-{digest[:16]}"


@dataclass(frozen=True)
class ServingImage:
    """The built image (``None`` while nothing is served) and what must exist first."""

    image: pulumi.Output[str | None]
    resources: Sequence[pulumi.Resource]


def serving_image(
    ctx: BuildContext[ServingEndpointArgs],
    scope: AwsScope,
    store: StoreLocation,
    registry_url: pulumi.Input[str],
    model_data: pulumi.Output[str | None],
) -> ServingImage:
    """Declares the builder and the build of the served version's serving image."""
    mlflow_version = importlib.metadata.version("mlflow")
    name = physical_name(ctx.stack_name, ctx.args.spec.name, "images", max_length=150)
    repository_url = pulumi.Output.from_input(registry_url)
    repository = repository_url.apply(lambda u: u.partition("/")[2])
    role = service_role(
        ctx, "builder-role", "codebuild.amazonaws.com", scope,
        [
            *s3_read(store.bucket_arn, [store.key(MLFLOW_PREFIX)], sid="ModelArtifacts"),
            *kms_use(store.key_arns),
            statement(
                ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload",
                 "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
                 "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                [repository.apply(lambda r: scope.arn("ecr", f"repository/{r}"))],
                sid="PushImages",
            ),
            statement(["ecr:GetAuthorizationToken"], ["*"], sid="RegistryLogin"),
            *logs_write([scope.arn("logs", f"log-group:/aws/codebuild/{name}")]),
        ],
        description=f"CodeBuild: serving images of endpoint {ctx.args.spec.name}",
    )  # fmt: skip
    project = codebuild.Project(
        ctx.child_name("builder"),
        name=name,
        description=f"serving images of endpoint {ctx.args.spec.name} (mlops-infra)",
        service_role=role.arn,
        source=codebuild.ProjectSourceArgs(type="NO_SOURCE", buildspec=BUILDSPEC),
        artifacts=codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
        environment=codebuild.ProjectEnvironmentArgs(
            type="LINUX_CONTAINER",
            compute_type="BUILD_GENERAL1_MEDIUM",
            image=_BUILD_IMAGE,
            privileged_mode=True,
        ),
        encryption_key=store.key_arn,
        build_timeout=60,
        tags=ctx.tags(),
        opts=ctx.opts(depends_on=[role.policy]),
        region=scope.region_override,
    )
    build = ImageBuild(
        ctx.child_name("image"),
        {
            "project_name": project.name,
            "region": scope.region,
            "repository": repository,
            "repository_url": repository_url,
            "tag": model_data.apply(lambda s: serving_tag(s, mlflow_version)),
            "environment": {"MODEL_URI": model_data, "MLFLOW_VERSION": mlflow_version},
            "bucket": store.bucket,
            "timeout_s": 3600,
        },
        ctx.opts(custom_timeouts=pulumi.CustomTimeouts(create="70m", update="70m")),
    )
    return ServingImage(image=build.image, resources=[build])
