"""Workloads: what a pipeline step or a training job runs, and on which compute."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from mlops_infra.specs._base import JsonScalar, Name, Spec

__all__ = [
    "WorkloadSpec",
    "check_component",
    "check_image",
    "check_model_name",
    "check_source_dir",
]

_COMPONENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_IMAGE_RE = re.compile(
    r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$"
)
_ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_SOURCE_DIR_RE = re.compile(r"^(?!/)(?!.*\.\.)[A-Za-z0-9_./-]+$")
_MODEL_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_source_dir(value: str) -> str:
    """Validates a source directory: relative to the project root, never escaping it."""
    if not _SOURCE_DIR_RE.fullmatch(value):
        msg = f"{value!r} is not allowed; allowed: a relative path inside the project, no '..'"
        raise ValueError(msg)
    return value.rstrip("/")


def check_model_name(value: str | None) -> str | None:
    """Validates a registered model name."""
    if value is not None and not _MODEL_NAME_RE.fullmatch(value):
        msg = f"{value!r} is not a model name; allowed: letters, digits, '_', '.', '-' (max 64)"
        raise ValueError(msg)
    return value


def check_component(value: str) -> str:
    """Validates a component reference: a dotted module path under the source directory."""
    if not _COMPONENT_RE.fullmatch(value):
        msg = (
            f"{value!r} is not a component reference; allowed: a dotted module path "
            "under the source directory, e.g. 'churn.train' for components/churn/train.py"
        )
        raise ValueError(msg)
    return value


def check_image(value: str | None) -> str | None:
    """Validates a container image reference (``registry/repo[:tag][@sha256:digest]``)."""
    if value is not None and not _IMAGE_RE.fullmatch(value):
        msg = (
            f"{value!r} is not a container image reference; "
            "allowed: registry/repo[:tag][@sha256:<digest>]"
        )
        raise ValueError(msg)
    return value


class WorkloadSpec(Spec):
    """Code to run, its parameters, and the compute it runs on."""

    component: str
    """Dotted module path of the component under the source directory (``churn.train``)."""

    cluster: Name | None = None
    """Training cluster to run on; ``None`` runs on the default CPU compute."""

    nodes: int = Field(default=1, ge=1, le=256)
    """Nodes of the cluster for distributed training (one process per GPU on each)."""

    image: str | None = None
    """Container image; pin it by digest (``@sha256:...``) so the version is reproducible.
    Default: the runtime image the stack builds (mlops-infra, its dependencies and the
    components' requirement files, tagged by their content hash)."""

    parameters: dict[str, JsonScalar] = Field(default_factory=dict[str, JsonScalar])
    """Hyperparameters and settings passed to the component."""

    environment_variables: dict[str, str] = Field(default_factory=dict[str, str])
    """Environment variables set for the component (never secrets: use config secrets)."""

    timeout_s: int = Field(default=3600, ge=60, le=28 * 86400)
    """Longest the workload may run before it is stopped."""

    _component = field_validator("component")(check_component)
    _image = field_validator("image")(check_image)

    @field_validator("environment_variables")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(name for name in value if not _ENV_RE.fullmatch(name))
        if bad:
            msg = f"environment variable names {bad} are not allowed; allowed: [A-Z_][A-Z0-9_]*"
            raise ValueError(msg)
        return value
