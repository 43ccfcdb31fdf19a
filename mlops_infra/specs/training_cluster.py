"""Training cluster: GPU (or CPU) compute for jobs and pipeline steps, scaling to zero."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from mlops_infra.specs._base import Name, Spec, raise_issues
from mlops_infra.specs._flavored import FlavoredSpec, reject_mixed_existing
from mlops_infra.specs.compute import ComputeSpec

__all__ = ["ExistingTrainingCluster", "TrainingClusterSpec"]


class ExistingTrainingCluster(Spec):
    """A compute pool created elsewhere, adopted instead of created."""

    id: str = Field(min_length=1, max_length=512)
    """The pool's cloud identifier (EKS node group ARN, AmlCompute resource id, ...)."""


class TrainingClusterSpec(FlavoredSpec, ComputeSpec):
    """Nodes of one shape that training jobs and pipeline steps run on.

    Scales to ``min_nodes`` (zero by default) when idle; nothing is paid for idle GPUs.
    """

    name: Name = "default"
    """Cluster name; jobs and steps refer to it."""

    existing: ExistingTrainingCluster | None = None
    """Adopt this pool instead of creating one (exclusive with the creation fields)."""

    min_nodes: int = Field(default=0, ge=0, le=1000)
    """Nodes kept running when idle."""

    max_nodes: int = Field(default=1, ge=1, le=1000)
    """Most nodes running at once (jobs queue beyond it)."""

    spot: bool = False
    """Use spot/preemptible/low-priority capacity; jobs checkpoint and resume."""

    idle_timeout_s: int = Field(default=600, ge=0, le=86400)
    """Seconds an idle node is kept before it is released."""

    disk_gib: int = Field(default=100, ge=10, le=16384)
    """Local disk per node."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        reject_mixed_existing(
            self, self.existing, always_allowed=frozenset({"flavor", "options", "name"})
        )
        if self.min_nodes > self.max_nodes:
            raise_issues(
                [
                    (
                        ("min_nodes",),
                        f"min_nodes ({self.min_nodes}) is greater than max_nodes "
                        f"({self.max_nodes}); allowed: 0 <= min_nodes <= max_nodes",
                    )
                ],
                title="TrainingClusterSpec",
            )
        return self
