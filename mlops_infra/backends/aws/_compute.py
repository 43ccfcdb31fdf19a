"""How a workload's compute request becomes SageMaker settings (shared by jobs and steps)."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_infra.backends.aws._naming import has_instance_storage
from mlops_infra.backends.aws.training_cluster import CPU_INSTANCE_TYPE
from mlops_infra.errors import BackendError
from mlops_infra.resources import ComputeRef

__all__ = ["SageMakerCompute", "sagemaker_compute"]


@dataclass(frozen=True)
class SageMakerCompute:
    """Instance settings of one job or step.

    Attributes:
        instance_type: ``ml.*`` type.
        count: Instances (one process per GPU on each).
        spot: Managed spot training (with checkpoints).
        max_runtime_s: Longest the job may run.
        max_wait_s: Longest it may run plus wait for spot capacity (``None`` on demand).
        volume_kms: Whether the volume can take the KMS key (not on local-NVMe types).
    """

    instance_type: str
    count: int
    spot: bool
    max_runtime_s: int
    max_wait_s: int | None
    volume_kms: bool

    @property
    def deadline_s(self) -> int:
        """How long ``pulumi up`` waits for the job: its whole allowance, plus an hour."""
        return (self.max_wait_s or self.max_runtime_s) + 3600


def sagemaker_compute(
    where: str,
    cluster: ComputeRef | None,
    *,
    nodes: int,
    spot: bool | None,
    timeout_s: int,
    max_wait_factor: float,
) -> SageMakerCompute:
    """Resolves the cluster (or default CPU), spot and timeouts of a workload.

    Raises:
        BackendError: the cluster is not SageMaker compute (e.g. a Batch pool).
    """
    instance_type = (
        cluster.instance_type if cluster and cluster.instance_type else CPU_INSTANCE_TYPE
    )
    if not instance_type.startswith("ml."):
        msg = (
            f"{where}: cluster {cluster.name if cluster else ''!r} is not SageMaker compute "
            f"({instance_type}); run it with flavor: batch, or name a sagemaker cluster"
        )
        raise BackendError(msg)
    use_spot = spot if spot is not None else bool(cluster and cluster.spot)
    return SageMakerCompute(
        instance_type=instance_type,
        count=nodes,
        spot=use_spot,
        max_runtime_s=timeout_s,
        max_wait_s=int(timeout_s * max_wait_factor) if use_spot else None,
        volume_kms=not has_instance_storage(instance_type),
    )
