"""SageMaker per-job compute: a cluster that is only a shape, so nothing runs while idle.

SageMaker starts instances for each training job (or pipeline step) and stops them when it
ends: an idle cluster costs nothing and creates no resource. The cluster resolves the
portable GPU shape to a SageMaker instance type (``l4`` → ``ml.g6``, ``a10g`` → ``ml.g5``,
``a100-40gb``/``a100-80gb`` → ``ml.p4d``/``ml.p4de``, ``h100`` → ``ml.p5``), and jobs on it
use managed spot with checkpoints when ``spot: true``. Warm pools are not used (they bill
while idle), so ``idle_timeout_s`` has no effect; a standing pool is the ``batch`` flavor.
"""

from __future__ import annotations

from mlops_infra.backends.aws._naming import physical_name
from mlops_infra.errors import BackendError
from mlops_infra.resources import (
    BuildContext,
    ComputeRef,
    TrainingClusterArgs,
    TrainingClusterBackend,
)
from mlops_infra.resources.training_cluster import node_shape
from mlops_infra.specs import TrainingClusterSpec

__all__ = ["CPU_INSTANCE_TYPE", "SAGEMAKER_POOL_PREFIX", "SageMakerCompute"]

CPU_INSTANCE_TYPE = "ml.m5.xlarge"
"""Instance type of CPU work (no ``gpu``, no ``instance_type``)."""

SAGEMAKER_POOL_PREFIX = "sagemaker:"
"""Prefix of the id of per-job compute (there is no pool to name)."""


class SageMakerCompute(TrainingClusterBackend):
    """Resolves the node shape; SageMaker provisions it per job, so nothing is created."""

    def create(
        self, ctx: BuildContext[TrainingClusterArgs], spec: TrainingClusterSpec
    ) -> ComputeRef:
        """Returns the shape jobs and steps run on."""
        if spec.min_nodes > 0:
            msg = (
                f"{ctx.name}: min_nodes {spec.min_nodes} asks for standing nodes, which SageMaker "
                "per-job compute does not keep; use flavor: batch, or min_nodes: 0"
            )
            raise BackendError(msg)
        offer = node_shape(ctx.target, spec, "training")
        instance_type = offer.instance_type if offer else spec.instance_type or CPU_INSTANCE_TYPE
        if not instance_type.startswith("ml."):
            msg = (
                f"{ctx.name}: instance_type {instance_type!r} is not a SageMaker type; "
                "allowed: ml.* (e.g. ml.m5.xlarge)"
            )
            raise BackendError(msg)
        return ComputeRef(
            name=spec.name,
            id=SAGEMAKER_POOL_PREFIX + physical_name(ctx.stack_name, spec.name),
            gpu=spec.gpu,
            gpus_per_node=spec.gpu_count if spec.gpu else 0,
            instance_type=instance_type,
            max_nodes=spec.max_nodes,
            spot=spec.spot,
        )
