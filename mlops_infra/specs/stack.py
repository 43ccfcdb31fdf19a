"""The whole stack: one environment on one cloud, and every concept in it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from mlops_infra.catalog.gpus import GpuNotOfferedError, GpuOffers, Purpose
from mlops_infra.errors import RegistryError
from mlops_infra.registry import FlavorRegistry, default_registry
from mlops_infra.specs._base import Name, Spec, Tags, check_unique_names, raise_issues
from mlops_infra.specs._flavored import FlavoredSpec, validate_options
from mlops_infra.specs.artifact_store import ArtifactStoreSpec
from mlops_infra.specs.compute import ComputeSpec
from mlops_infra.specs.environment import EnvironmentProfile, Tier, profile_for
from mlops_infra.specs.pipeline import PipelineSpec
from mlops_infra.specs.serving_endpoint import ServingEndpointSpec
from mlops_infra.specs.shared import (
    ContainerRegistrySpec,
    IdentitySpec,
    LimitsSpec,
    NetworkSpec,
    SecretsSpec,
)
from mlops_infra.specs.tracking_server import TrackingServerSpec
from mlops_infra.specs.training_cluster import TrainingClusterSpec
from mlops_infra.specs.training_job import TrainingJobSpec

__all__ = ["SPEC_VERSION", "StackSpec"]

SPEC_VERSION = 1
"""Current version of the stack spec format."""

Loc = tuple[str | int, ...]
Issues = list[tuple[Loc, str]]


class StackSpec(Spec):
    """One MLOps stack: an environment on a cloud, and every concept in it.

    Read from a stack file's ``mlops:*`` config.
    """

    spec_version: Literal[1] = SPEC_VERSION
    """Version of this format; bumped only with a migration."""

    cloud: str = "local"
    """Where the stack is deployed: ``local``, ``aws``, ``gcp``, ``azure`` or a plugin's cloud."""

    environment: Name = "local"
    """Environment name (``local``, ``dev``, ``staging``, ``prod``, or your own)."""

    tier: Tier | None = None
    """Override the tier the environment name implies (``my-prod`` → ``production``)."""

    region: str | None = Field(default=None, pattern=r"^[a-z]{2,}[a-z0-9-]*[0-9a-z]$")
    """Cloud region; default: the provider's configured region."""

    protect_stateful: bool | None = None
    """Protect stateful resources from deletion; default: on in production."""

    tags: Tags = Field(default_factory=dict[str, str])
    """Tags added to every resource, besides the standard ones (stack, environment)."""

    limits: LimitsSpec = LimitsSpec()
    """GPU and cost guardrails, enforced by the policies."""

    network: NetworkSpec = NetworkSpec()
    """Network the workloads run in."""

    registry: ContainerRegistrySpec = ContainerRegistrySpec()
    """Container registry for images."""

    secrets: SecretsSpec = SecretsSpec()
    """Secret storage."""

    identity: IdentitySpec = IdentitySpec()
    """Workload identities."""

    artifact_store: ArtifactStoreSpec = ArtifactStoreSpec()
    """The artifact store (created, or adopted with ``existing``)."""

    tracking: TrackingServerSpec = TrackingServerSpec()
    """The MLflow tracking server and model registry."""

    clusters: tuple[TrainingClusterSpec, ...] = ()
    """Training clusters; jobs and steps name one, or run on CPU."""

    jobs: tuple[TrainingJobSpec, ...] = ()
    """Standalone training jobs."""

    pipelines: tuple[PipelineSpec, ...] = ()
    """Versioned pipelines."""

    endpoints: tuple[ServingEndpointSpec, ...] = ()
    """Serving endpoints."""

    @property
    def profile(self) -> EnvironmentProfile:
        """The environment's defaults (tier, protection, availability)."""
        return profile_for(self.environment, self.tier)

    @property
    def protects_stateful(self) -> bool:
        """Whether stateful resources are protected (explicit setting, else the tier's)."""
        if self.protect_stateful is not None:
            return self.protect_stateful
        return self.profile.protect_stateful

    def produced_models(self) -> dict[str, str]:
        """Registered model names this stack produces → the pipeline or job producing it."""
        models = {p.registered_model: f"pipeline {p.name!r}" for p in self.pipelines}
        models.update({j.output_model: f"job {j.name!r}" for j in self.jobs if j.output_model})
        return models

    @field_validator("clusters", "jobs", "pipelines", "endpoints")
    @classmethod
    def _unique(cls, value: tuple[Spec, ...], info: ValidationInfo) -> tuple[Spec, ...]:
        what = {"clusters": "cluster", "jobs": "job", "pipelines": "pipeline"}.get(
            info.field_name or "", "endpoint"
        )
        check_unique_names(value, what)  # pyright: ignore[reportArgumentType]
        return value

    @model_validator(mode="after")
    def _semantics(self, info: ValidationInfo) -> Self:
        registry = _registry_from(info)
        issues: Issues = []
        issues += self._check_references()
        try:
            cloud = registry.cloud(self.cloud)
        except RegistryError as error:
            issues.append((("cloud",), str(error)))
        else:
            issues += self._check_flavors(registry)
            for loc, compute, purpose in self._computes():
                issues += _check_gpu(loc, compute, purpose, cloud.gpus)
        raise_issues(issues, title="StackSpec")
        return self

    def _computes(self) -> Iterator[tuple[Loc, ComputeSpec, Purpose]]:
        for index, cluster in enumerate(self.clusters):
            yield ("clusters", index), cluster, "training"
        for index, endpoint in enumerate(self.endpoints):
            yield ("endpoints", index), endpoint, "serving"

    def _flavored(self) -> Iterator[tuple[Loc, str, FlavoredSpec]]:
        yield ("artifact_store",), "artifact_store", self.artifact_store
        yield ("tracking",), "tracking_server", self.tracking
        for field, kind, items in (
            ("clusters", "training_cluster", self.clusters),
            ("jobs", "training_job", self.jobs),
            ("pipelines", "pipeline", self.pipelines),
            ("endpoints", "serving_endpoint", self.endpoints),
        ):
            for index, item in enumerate(items):
                yield (field, index), kind, item

    def _check_flavors(self, registry: FlavorRegistry) -> Issues:
        issues: Issues = []
        for loc, kind, spec in self._flavored():
            try:
                flavor = registry.flavor(self.cloud, kind, spec.flavor)
            except RegistryError as error:
                issues.append(((*loc, "flavor"), str(error)))
                continue
            _, found = validate_options(flavor, spec.options)
            issues.extend(((*loc, *where), message) for where, message in found)
        if self.network.options:
            # A created network's options are its foundation flavor's (the only one).
            try:
                flavor = registry.flavor(self.cloud, "foundation", None)
            except RegistryError as error:
                return [*issues, (("network", "options"), str(error))]
            _, found = validate_options(flavor, self.network.options)
            issues.extend((("network", *where), message) for where, message in found)
        return issues

    def _check_references(self) -> Issues:
        issues: Issues = []
        clusters = {c.name: c for c in self.clusters}
        known = ", ".join(clusters) or "none declared"
        workloads = [(("jobs", i), job) for i, job in enumerate(self.jobs)] + [
            (("pipelines", i, "steps", j), step)
            for i, pipeline in enumerate(self.pipelines)
            for j, step in enumerate(pipeline.steps)
        ]
        for loc, workload in workloads:
            if workload.cluster is None:
                continue
            cluster = clusters.get(workload.cluster)
            if cluster is None:
                issues.append(
                    ((*loc, "cluster"), f"unknown cluster {workload.cluster!r}; clusters: {known}")
                )
            elif workload.nodes > cluster.max_nodes:
                issues.append(
                    (
                        (*loc, "nodes"),
                        f"{workload.nodes} nodes requested but cluster {cluster.name!r} has "
                        f"max_nodes {cluster.max_nodes}",
                    )
                )
        producers: dict[str, str] = {}
        for loc, model, producer in [
            (("pipelines", i, "model_name"), p.registered_model, f"pipeline {p.name!r}")
            for i, p in enumerate(self.pipelines)
        ] + [
            (("jobs", i, "output_model"), j.output_model, f"job {j.name!r}")
            for i, j in enumerate(self.jobs)
            if j.output_model
        ]:
            if model in producers:
                issues.append((loc, f"model {model!r} is already registered by {producers[model]}"))
            producers[model] = producer
        for index, endpoint in enumerate(self.endpoints):
            if not endpoint.external_model and endpoint.model not in producers:
                issues.append(
                    (
                        ("endpoints", index, "model"),
                        f"no pipeline or job in this stack registers model {endpoint.model!r}; "
                        f"registered here: {', '.join(sorted(producers)) or 'none'} "
                        "(set external_model: true to serve a model registered elsewhere)",
                    )
                )
            if endpoint.gate and self.environment in endpoint.gate.passed_in:
                issues.append(
                    (
                        ("endpoints", index, "gate", "passed_in"),
                        f"an environment cannot require itself ({self.environment!r}); "
                        "name the lower environment, e.g. staging",
                    )
                )
        return issues


def _registry_from(info: ValidationInfo) -> FlavorRegistry:
    context: object = info.context
    if isinstance(context, dict):
        candidate = context.get("registry")  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
        if isinstance(candidate, FlavorRegistry):
            return candidate
    return default_registry()


def _check_gpu(loc: Loc, compute: ComputeSpec, purpose: Purpose, offers: GpuOffers) -> Issues:
    if compute.gpu is None:
        return []
    try:
        offers.resolve(compute.gpu, compute.gpu_count, purpose)
    except GpuNotOfferedError as error:
        return [((*loc, error.field), str(error))]
    return []
