"""Pipeline: a DAG of steps, deployed as an immutable, content-versioned package."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

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
from mlops_infra.specs import PipelineSpec, effective_pipeline, wait_for_run_of
from mlops_infra.versioning import VersionManifest, pipeline_manifest

__all__ = [
    "Pipeline",
    "PipelineArgs",
    "PipelineBackend",
    "PipelineResult",
    "waits_for_run",
]

_NO_CLUSTERS: Mapping[str, ComputeRef] = MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class PipelineArgs:
    """Arguments of :class:`Pipeline`."""

    spec: PipelineSpec
    """Steps, code, parameters, data and schedule."""

    store: StoreRef
    """Artifact store the versioned package is kept in."""

    tracking: TrackingRef
    """Tracking server the runs log to and the model is registered in."""

    target: Target = field(default_factory=Target)
    """Cloud and environment."""

    clusters: Mapping[str, ComputeRef] = field(default_factory=lambda: _NO_CLUSTERS)
    """Clusters the steps name, by name."""

    foundation: FoundationRef | None = None
    """Shared infrastructure (network, registry, keys) to use."""


@dataclass(frozen=True, kw_only=True)
class PipelineResult:
    """What a backend returns for a pipeline."""

    pipeline_id: pulumi.Input[str]
    """Cloud identifier of the deployed pipeline definition."""

    package_uri: pulumi.Input[str]
    """Where the immutable package of the deployed version is stored."""

    deployed_version: pulumi.Input[str]
    """The version in effect: the current source's, or the pinned one (rollback)."""

    run_id: pulumi.Input[str | None] = None
    """MLflow run id of the latest run of the deployed version, where known."""

    model_version: pulumi.Input[str | None] = None
    """Registered model version the deployed version produced, where known."""


def waits_for_run(spec: PipelineSpec, target: Target) -> bool:
    """Whether ``up`` waits for a new version's run: the spec's choice, else the tier's."""
    return wait_for_run_of(spec, target.profile)


class PipelineBackend(Backend, ABC):
    """Implements :class:`Pipeline` on one cloud."""

    @abstractmethod
    def create(
        self, ctx: BuildContext[PipelineArgs], spec: PipelineSpec, manifest: VersionManifest
    ) -> PipelineResult:
        """Deploys the package of ``manifest`` (or the pinned ``spec.version``) and its schedule."""


class Pipeline(pulumi.ComponentResource):
    """A versioned ML pipeline; its package is immutable once deployed."""

    def __init__(
        self, name: str, args: PipelineArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declares the pipeline ``name``."""
        # Tier defaults are applied once, here: the backend builds what the spec resolves to.
        runs_in_up = args.target.backends.cloud(args.target.cloud).runs_pipelines_in_up
        spec = effective_pipeline(args.spec, args.target.profile, runs_in_up=runs_in_up)
        manifest = pipeline_manifest(spec, args.target.project_dir)
        super().__init__(
            f"{TYPE_PREFIX}Pipeline", name, component_inputs(args.target, spec, manifest), opts
        )
        self._manifest: VersionManifest = manifest
        self._content_version: str = self.manifest.version
        self._model_name: str = spec.registered_model
        context, backend = start_build(self, "pipeline", PipelineBackend, name, args, spec=spec)
        result = backend.create(context, spec, self.manifest)
        self._pipeline_id: pulumi.Output[str] = pulumi.Output.from_input(result.pipeline_id)
        self._package_uri: pulumi.Output[str] = pulumi.Output.from_input(result.package_uri)
        self._deployed_version: pulumi.Output[str] = pulumi.Output.from_input(
            result.deployed_version
        )
        self._run_id: pulumi.Output[str | None] = pulumi.Output.from_input(result.run_id)
        self._model_version: pulumi.Output[str | None] = pulumi.Output.from_input(
            result.model_version
        )
        self.register_outputs(
            {
                "version": self.version,
                "deployed_version": self.deployed_version,
                "package_uri": self.package_uri,
                "pipeline_id": self.pipeline_id,
                "model_name": self.model_name,
                "model_version": self.model_version,
                "run_id": self.run_id,
            }
        )

    @property
    def version(self) -> str:
        """Content hash of the current source, config and data."""
        return self._content_version

    @property
    def deployed_version(self) -> pulumi.Output[str]:
        """Version in effect (the current one, or ``spec.version`` when pinned)."""
        return self._deployed_version

    @property
    def package_uri(self) -> pulumi.Output[str]:
        """Where the deployed version's package is stored."""
        return self._package_uri

    @property
    def pipeline_id(self) -> pulumi.Output[str]:
        """Cloud identifier of the pipeline."""
        return self._pipeline_id

    @property
    def model_name(self) -> str:
        """Registered model the pipeline produces."""
        return self._model_name

    @property
    def model_version(self) -> pulumi.Output[str | None]:
        """Registered model version the deployed version produced, once known."""
        return self._model_version

    @property
    def run_id(self) -> pulumi.Output[str | None]:
        """MLflow run id of the latest run of the deployed version, once known."""
        return self._run_id

    @property
    def manifest(self) -> VersionManifest:
        """What the current version is made of."""
        return self._manifest
