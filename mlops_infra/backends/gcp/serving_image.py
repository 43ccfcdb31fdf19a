"""The serving image of the served model version, built by the stack with Cloud Build.

``mlflow models generate-dockerfile --model-uri gs://…`` copies the model into the build
context (``/opt/ml/model`` in the image) and installs its dependencies when the image is
*built*, so the service downloads nothing when an instance starts: it runs without
egress. One image per model version and MLflow release, ``<registry>/serving:serving-<hash>``
(the same content is never built twice).

Children of the endpoint component ``<name>``: ``<name>-builder-sa`` and its grants (see
:mod:`~mlops_infra.backends.gcp._image_builder`), ``<name>-image``
(:class:`~mlops_infra.backends.gcp.image_build.CloudBuildImage`; nothing while no version
has passed the gate).

``generate-dockerfile``: https://mlflow.org/docs/latest/cli.html#mlflow-models-generate-dockerfile.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import sys
from typing import Any

import pulumi

from mlops_infra.backends.gcp._image_builder import DOCKER, builder_identity
from mlops_infra.backends.gcp._scope import AnyContext, current_project_id, region_of
from mlops_infra.backends.gcp.image_build import CloudBuildImage
from mlops_infra.images import ServingImage, stack_registry
from mlops_infra.resources import FoundationRef

__all__ = ["MODEL_DIR", "serving_image", "serving_steps", "serving_tag"]

MODEL_DIR = "/opt/ml/model"
"""Where ``generate-dockerfile`` puts the model in the image."""

_PYTHON = f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"
_GENERATE = (
    "pip install --quiet 'mlflow=={mlflow}' google-cloud-storage && "
    "mlflow models generate-dockerfile --model-uri '{source}' --output-directory context"
)


def serving_steps(source: str, image: str, mlflow_version: str) -> list[dict[str, Any]]:
    """Cloud Build steps: MLflow writes the model's Dockerfile, Docker builds it."""
    return [
        {
            "name": _PYTHON,
            "entrypoint": "bash",
            "args": ["-c", _GENERATE.format(mlflow=mlflow_version, source=source)],
        },
        {"name": DOCKER, "args": ["build", "--tag", image, "context"]},
    ]


def serving_tag(source: str | None, mlflow_version: str) -> str | None:
    """``serving-<hash of the artifacts, MLflow release and steps>``; ``None``: no model."""
    if not source:
        return None
    recipe = f"{source}|{mlflow_version}|{_PYTHON}|{_GENERATE}"
    return f"serving-{hashlib.sha256(recipe.encode()).hexdigest()[:16]}"


def serving_image(
    ctx: AnyContext,
    foundation: FoundationRef | None,
    store_uri: pulumi.Input[str],
    source: pulumi.Input[str | None],
) -> ServingImage:
    """Declares the builder and the build of the served version's image.

    Raises:
        BackendError: the stack has no registry (name an image in ``options.image``).
    """
    mlflow_version = importlib.metadata.version("mlflow")
    registry = stack_registry(
        ctx.name, foundation, "serving images",
        "set options.image (an image serving MLflow models with their dependencies)",
    )  # fmt: skip
    account, grants = builder_identity(ctx, store_uri, registry, what="serving images")
    model = pulumi.Output.from_input(source)
    tag = model.apply(lambda s: serving_tag(s, mlflow_version))
    image = pulumi.Output.all(registry, tag).apply(
        lambda v: f"{v[0]}/serving:{v[1]}" if v[1] else None
    )
    steps = pulumi.Output.all(model, image).apply(
        lambda v: serving_steps(str(v[0]), str(v[1]), mlflow_version) if v[0] and v[1] else []
    )
    build = CloudBuildImage(
        ctx.child_name("image"),
        {
            "project": current_project_id(),
            "region": region_of(ctx),
            "registry_url": registry,
            "image_name": "serving",
            "tag": tag,
            "steps": steps,
            "service_account": account.email,
            "timeout_s": 3600,
        },
        ctx.opts(
            depends_on=grants,
            custom_timeouts=pulumi.CustomTimeouts(create="70m", update="70m"),
        ),
    )
    return ServingImage(image=image, resources=[build])
