"""Local training cluster: this machine's CPUs and GPUs as slots for jobs and steps."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from mlops_infra.backends.local.dynamic import changed_keys, plain
from mlops_infra.backends.local.gpus import cpu_count, detect_gpus
from mlops_infra.dynamic_provider import EngineBoundProvider
from mlops_infra.resources import (
    BuildContext,
    ComputeRef,
    TrainingClusterArgs,
    TrainingClusterBackend,
)
from mlops_infra.specs import TrainingClusterSpec

__all__ = ["LocalSlots", "LocalTrainingCluster"]

_INPUTS = ("name", "gpu", "gpus_per_node", "max_nodes")


def _detect(props: dict[str, Any]) -> dict[str, Any]:
    gpus = detect_gpus()
    return {
        **plain(props),
        "cpus": cpu_count(),
        "detected_gpus": [asdict(g) for g in gpus],
        "gpu_fallback": props["gpus_per_node"] > len(gpus),
    }


class _SlotsProvider(EngineBoundProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"local-{props['name']}", outs=_detect(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=bool(changed_keys(olds, news, _INPUTS)), replaces=[])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_detect(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, _detect(props))


class LocalSlots(Resource, module="mlops", name="LocalSlots"):
    """The local machine's compute, with the GPUs detected on it."""

    cpus: pulumi.Output[int]
    """CPUs available."""

    detected_gpus: pulumi.Output[list[dict[str, Any]]]
    """GPUs ``nvidia-smi`` reported (index, name, memory_mib)."""

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the slots ``name``."""
        outputs = {"cpus": None, "detected_gpus": None, "gpu_fallback": None}
        super().__init__(_SlotsProvider(), name, {**props, **outputs}, opts)


class LocalTrainingCluster(TrainingClusterBackend):
    """This machine: a job gets its GPUs through ``CUDA_VISIBLE_DEVICES``, or runs on CPU."""

    def create(
        self, ctx: BuildContext[TrainingClusterArgs], spec: TrainingClusterSpec
    ) -> ComputeRef:
        """Declares the slots and records the GPUs detected."""
        gpus_per_node = spec.gpu_count if spec.gpu else 0
        slots = LocalSlots(
            ctx.child_name(),
            {
                "name": spec.name,
                "gpu": spec.gpu,
                "gpus_per_node": gpus_per_node,
                "max_nodes": spec.max_nodes,
            },
            ctx.opts(),
        )
        return ComputeRef(
            name=spec.name,
            id=slots.id,
            gpu=spec.gpu,
            gpus_per_node=gpus_per_node,
            instance_type="local",
            max_nodes=spec.max_nodes,
            spot=False,
        )
