"""Training jobs: one training run declared as infrastructure."""

from __future__ import annotations

from pydantic import Field, field_validator

from mlops_infra.specs._base import Name
from mlops_infra.specs._flavored import FlavoredSpec
from mlops_infra.specs.data import DataRef
from mlops_infra.specs.workload import WorkloadSpec, check_model_name, check_source_dir

__all__ = ["TrainingJobSpec"]


class TrainingJobSpec(FlavoredSpec, WorkloadSpec):
    """A training run: its code, hyperparameters, data and compute, versioned by content.

    The job's identity is a hash of what it runs, so a changed input is a new run and an
    unchanged one is not re-run.
    """

    name: Name
    """Job name."""

    source_dir: str = "components"
    """Directory of the component code, relative to the project root."""

    data: dict[str, DataRef] = Field(default_factory=dict[str, DataRef])
    """Named datasets the job reads; part of its identity."""

    output_model: str | None = None
    """Register the trained model under this name in the model registry."""

    spot: bool | None = None
    """Run on spot capacity with checkpoints; default: the cluster's setting."""

    _source_dir = field_validator("source_dir")(check_source_dir)
    _model_name = field_validator("output_model")(check_model_name)
