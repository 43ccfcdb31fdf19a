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

import pulumi

from mlops_infra.backends.aws._image_builder import image_build, image_builder
from mlops_infra.backends.aws._naming import physical_name
from mlops_infra.backends.aws._scope import AwsScope
from mlops_infra.backends.aws._store import StoreLocation
from mlops_infra.backends.aws.tracking_server import MLFLOW_PREFIX
from mlops_infra.images import ServingImage
from mlops_infra.resources import BuildContext, ServingEndpointArgs

__all__ = ["BUILDSPEC", "serving_image", "serving_tag"]

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


def serving_tag(source: str | None, mlflow_version: str) -> str | None:
    """``serving-<hash of the artifacts, MLflow release and buildspec>``; ``None``: no model."""
    if not source:
        return None
    digest = hashlib.sha256(f"{source}|{mlflow_version}|{BUILDSPEC}".encode()).hexdigest()
    return f"serving-{digest[:16]}"


def serving_image(
    ctx: BuildContext[ServingEndpointArgs],
    scope: AwsScope,
    store: StoreLocation,
    registry_url: pulumi.Input[str],
    model_data: pulumi.Output[str | None],
) -> ServingImage:
    """Declares the builder and the build of the served version's serving image."""
    mlflow_version = importlib.metadata.version("mlflow")
    builder = image_builder(
        ctx, scope, store, registry_url,
        project_name=physical_name(ctx.stack_name, ctx.args.spec.name, "images", max_length=150),
        what=f"serving images of endpoint {ctx.args.spec.name}",
        buildspec=BUILDSPEC, read_prefixes=[MLFLOW_PREFIX],
    )  # fmt: skip
    build = image_build(
        ctx, scope, store, builder,
        child="image",
        tag=model_data.apply(lambda s: serving_tag(s, mlflow_version)),
        environment={"MODEL_URI": model_data, "MLFLOW_VERSION": mlflow_version},
    )  # fmt: skip
    return ServingImage(image=build.image, resources=[build])
