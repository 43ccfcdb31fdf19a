"""TrainingCluster: GPU or CPU nodes for training that scale to zero when idle."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import pulumi

from mlops_infra.catalog.gpus import GpuOffer, Purpose
from mlops_infra.resources._component import (
    TYPE_PREFIX,
    Backend,
    BuildContext,
    component_inputs,
    exclusive,
    start_build,
)
from mlops_infra.resources.artifact_store import StoreRef
from mlops_infra.resources.foundation import FoundationRef
from mlops_infra.resources.target import Target
from mlops_infra.resources.tracking_server import TrackingRef
from mlops_infra.specs import ComputeSpec, ExistingTrainingCluster, TrainingClusterSpec

__all__ = [
    "ComputeRef",
    "TrainingCluster",
    "TrainingClusterArgs",
    "TrainingClusterBackend",
    "node_shape",
]


@dataclass(frozen=True, kw_only=True)
class ComputeRef:
    """Plain reference to a training cluster, for the jobs and steps that run on it."""

    name: str
    """Cluster name in the stack spec."""

    id: pulumi.Input[str]
    """Cloud identifier of the pool (or a name, where compute is provisioned per job)."""

    gpu: str | None = None
    """Portable GPU name, or ``None`` for CPU."""

    gpus_per_node: int = 0
    """GPUs on each node."""

    instance_type: str | None = None
    """Cloud instance or machine type of each node."""

    accelerator: str | None = None
    """Cloud accelerator type, where it is set apart from the machine type."""

    max_nodes: int = 1
    """Most nodes a job may use."""

    spot: bool = False
    """Whether nodes are spot/preemptible capacity."""


def node_shape(target: Target, compute: ComputeSpec, purpose: Purpose) -> GpuOffer | None:
    """Returns the cloud's offer for ``compute``'s GPU shape; ``None`` for CPU or any shape."""
    if compute.gpu is None:
        return None
    offers = target.backends.cloud(target.cloud).gpus
    return offers.resolve(compute.gpu, compute.gpu_count, purpose)


@dataclass(frozen=True, kw_only=True)
class TrainingClusterArgs:
    """Arguments of :class:`TrainingCluster`: create from ``spec`` or adopt ``existing``."""

    target: Target = field(default_factory=Target)
    """Cloud and environment."""

    spec: TrainingClusterSpec | None = None
    """What to create; default: one CPU node (exclusive with ``existing``)."""

    existing: ExistingTrainingCluster | None = None
    """Adopt this pool instead of creating one."""

    foundation: FoundationRef | None = None
    """Shared infrastructure (network, keys) to use."""

    tracking: TrackingRef | None = None
    """Tracking server of the stack, where a cloud creates its compute inside it (Azure ML
    clusters live in the workspace that serves MLflow); ``None`` elsewhere."""

    store: StoreRef | None = None
    """Artifact store the cluster's jobs read and write, where a cloud grants the cluster's
    identity access to it; ``None`` grants nothing."""


class TrainingClusterBackend(Backend, ABC):
    """Implements :class:`TrainingCluster` on one cloud."""

    @abstractmethod
    def create(
        self, ctx: BuildContext[TrainingClusterArgs], spec: TrainingClusterSpec
    ) -> ComputeRef:
        """Creates the pool (or per-job compute settings) and returns its reference."""

    def adopt(
        self, ctx: BuildContext[TrainingClusterArgs], existing: ExistingTrainingCluster
    ) -> ComputeRef:
        """Returns the reference of a pool created elsewhere; creates nothing by default."""
        spec = ctx.args.spec or TrainingClusterSpec()
        offer = node_shape(ctx.target, spec, "training")
        return ComputeRef(
            name=spec.name,
            id=existing.id,
            gpu=spec.gpu,
            gpus_per_node=spec.gpu_count if spec.gpu else 0,
            instance_type=offer.instance_type if offer else spec.instance_type,
            accelerator=offer.accelerator if offer else None,
            max_nodes=spec.max_nodes,
            spot=spec.spot,
        )


class TrainingCluster(pulumi.ComponentResource):
    """Nodes of one shape for training jobs and pipeline steps, scaling to zero when idle."""

    def __init__(
        self, name: str, args: TrainingClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Creates (or adopts) the training cluster ``name``."""
        exclusive("TrainingClusterArgs", args.spec, args.existing)
        spec = args.spec or TrainingClusterSpec(existing=args.existing)
        super().__init__(
            f"{TYPE_PREFIX}TrainingCluster", name, component_inputs(args.target, spec), opts
        )
        existing = spec.existing
        context, backend = start_build(
            self, "training_cluster", TrainingClusterBackend, name, args, spec=spec
        )
        self._ref: ComputeRef = (
            backend.adopt(context, existing) if existing else backend.create(context, spec)
        )
        self._flavor: str = context.flavor.name
        self._id: pulumi.Output[str] = pulumi.Output.from_input(self.ref.id)
        self._instance_type: str | None = self.ref.instance_type
        self._gpus_per_node: int = self.ref.gpus_per_node
        self.register_outputs(
            {
                "id": self.id,
                "instance_type": self.instance_type,
                "gpus_per_node": self.gpus_per_node,
            }
        )

    @property
    def id(self) -> pulumi.Output[str]:
        """Cloud identifier of the pool."""
        return self._id

    @property
    def instance_type(self) -> str | None:
        """Instance or machine type of each node (resolved from the GPU catalog)."""
        return self._instance_type

    @property
    def gpus_per_node(self) -> int:
        """GPUs on each node."""
        return self._gpus_per_node

    @property
    def flavor(self) -> str:
        """The flavor that built it."""
        return self._flavor

    @property
    def ref(self) -> ComputeRef:
        """Reference to pass to jobs and pipelines."""
        return self._ref
