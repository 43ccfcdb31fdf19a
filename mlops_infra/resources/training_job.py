"""TrainingJob: one training run declared as infrastructure, identified by its content."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import pulumi

from mlops_infra.resources._component import (
    TYPE_PREFIX,
    Backend,
    BuildContext,
    component_inputs,
    start_build,
)
from mlops_infra.resources.artifact_store import StoreRef
from mlops_infra.resources.foundation import FoundationRef
from mlops_infra.resources.target import Target
from mlops_infra.resources.tracking_server import TrackingRef
from mlops_infra.resources.training_cluster import ComputeRef
from mlops_infra.specs import TrainingJobSpec
from mlops_infra.versioning import VersionManifest, job_manifest

__all__ = ["JobResult", "TrainingJob", "TrainingJobArgs", "TrainingJobBackend"]


@dataclass(frozen=True, kw_only=True)
class TrainingJobArgs:
    """Arguments of :class:`TrainingJob`."""

    spec: TrainingJobSpec
    """What to run."""

    store: StoreRef
    """Artifact store for inputs, checkpoints and the model."""

    tracking: TrackingRef
    """Tracking server the run logs to."""

    target: Target = field(default_factory=Target)
    """Cloud and environment."""

    cluster: ComputeRef | None = None
    """Cluster to run on (must be the one ``spec.cluster`` names); ``None``: default CPU."""

    foundation: FoundationRef | None = None
    """Shared infrastructure (network, registry, keys) to use."""


@dataclass(frozen=True, kw_only=True)
class JobResult:
    """What a backend returns for a job."""

    job_name: pulumi.Input[str]
    """Cloud name of the run (derived from the version, so each version runs once)."""

    run_id: pulumi.Input[str | None] = None
    """MLflow run id, where the backend knows it after ``up``."""

    model_version: pulumi.Input[str | None] = None
    """Registered model version the run produced, where known."""


class TrainingJobBackend(Backend, ABC):
    """Implements :class:`TrainingJob` on one cloud."""

    @abstractmethod
    def create(
        self, ctx: BuildContext[TrainingJobArgs], spec: TrainingJobSpec, manifest: VersionManifest
    ) -> JobResult:
        """Submits the job for ``manifest.version`` (once per version)."""


class TrainingJob(pulumi.ComponentResource):
    """A training run as infrastructure: a new version runs once; an unchanged one never reruns."""

    def __init__(
        self, name: str, args: TrainingJobArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the training job ``name``."""
        spec = args.spec
        manifest = job_manifest(spec, args.target.project_dir)
        super().__init__(
            f"{TYPE_PREFIX}TrainingJob", name, component_inputs(args.target, spec, manifest), opts
        )
        self._manifest: VersionManifest = manifest
        self._content_version: str = self.manifest.version
        context, backend = start_build(
            self, "training_job", TrainingJobBackend, name, args, spec=spec
        )
        result = backend.create(context, spec, self.manifest)
        self._job_name: pulumi.Output[str] = pulumi.Output.from_input(result.job_name)
        self._run_id: pulumi.Output[str | None] = pulumi.Output.from_input(result.run_id)
        self._model_version: pulumi.Output[str | None] = pulumi.Output.from_input(
            result.model_version
        )
        self.register_outputs(
            {
                "version": self.version,
                "job_name": self.job_name,
                "run_id": self.run_id,
                "model_version": self.model_version,
            }
        )

    @property
    def version(self) -> str:
        """Content hash of the job's code, parameters and data."""
        return self._content_version

    @property
    def job_name(self) -> pulumi.Output[str]:
        """Cloud name of the run."""
        return self._job_name

    @property
    def run_id(self) -> pulumi.Output[str | None]:
        """MLflow run id, once known."""
        return self._run_id

    @property
    def model_version(self) -> pulumi.Output[str | None]:
        """Registered model version produced, once known."""
        return self._model_version

    @property
    def manifest(self) -> VersionManifest:
        """What the version is made of."""
        return self._manifest
