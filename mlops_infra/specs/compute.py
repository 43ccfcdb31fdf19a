"""Compute requests shared by clusters, jobs, steps and endpoints: a portable GPU shape."""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator

from mlops_infra.catalog.gpus import GPU_MODELS, known_gpu_names
from mlops_infra.specs._base import Spec, raise_issues

__all__ = ["ComputeSpec"]


class ComputeSpec(Spec):
    """What a node runs on: a portable GPU shape, or a cloud-specific instance type.

    Whether the cloud sells ``gpu_count`` x ``gpu`` is checked against the stack's cloud.
    """

    gpu: str | None = Field(default=None, examples=["l4", "a10g", "a100-80gb", "h100"])
    """Portable GPU name; ``None`` runs on CPU."""

    gpu_count: int = Field(default=1, ge=1, le=16)
    """GPUs per node; only with ``gpu``."""

    instance_type: str | None = Field(default=None, min_length=1, max_length=64)
    """Cloud-specific instance or machine type; an escape hatch, exclusive with ``gpu``."""

    @field_validator("gpu")
    @classmethod
    def _known_gpu(cls, value: str | None) -> str | None:
        if value is not None and value not in GPU_MODELS:
            msg = f"{value!r} is not a known GPU; known: {', '.join(known_gpu_names())}"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _gpu_shape(self) -> Self:
        issues: list[tuple[tuple[str | int, ...], str]] = []
        if "gpu_count" in self.model_fields_set and self.gpu is None:
            issues.append((("gpu_count",), "gpu_count needs gpu (the GPU model to count)"))
        if self.gpu is not None and self.instance_type is not None:
            issues.append(
                (
                    ("instance_type",),
                    "set either gpu (portable) or instance_type (cloud-specific), not both",
                )
            )
        raise_issues(issues, title=type(self).__name__)
        return self
