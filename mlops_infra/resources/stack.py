"""MlopsStack: every component of a :class:`StackSpec`, wired together."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from mlops_infra.registry import FlavorRegistry
from mlops_infra.resources._component import TYPE_PREFIX
from mlops_infra.resources.artifact_store import ArtifactStore, ArtifactStoreArgs
from mlops_infra.resources.foundation import Foundation, FoundationArgs
from mlops_infra.resources.pipeline import Pipeline, PipelineArgs
from mlops_infra.resources.serving_endpoint import ServingEndpoint, ServingEndpointArgs
from mlops_infra.resources.target import Target
from mlops_infra.resources.tracking_server import TrackingServer, TrackingServerArgs
from mlops_infra.resources.training_cluster import TrainingCluster, TrainingClusterArgs
from mlops_infra.resources.training_job import TrainingJob, TrainingJobArgs
from mlops_infra.specs import StackSpec

__all__ = ["MlopsStack", "MlopsStackArgs", "component_name"]


def component_name(stack: str, kind: str, item: str | None = None) -> str:
    """The name :class:`MlopsStack` ``stack`` gives its component of ``kind`` (URNs: contract).

    Args:
        stack: The stack component's name.
        kind: ``store``, ``tracking``, ``cluster``, ``job``, ``pipeline``, ``evidence`` or
            ``endpoint``.
        item: The item's name in the spec (clusters, jobs, pipelines, endpoints).
    """
    return f"{stack}-{kind}" if item is None else f"{stack}-{kind}-{item}"


@dataclass(frozen=True, kw_only=True)
class MlopsStackArgs:
    """Arguments of :class:`MlopsStack`."""

    spec: StackSpec
    """The whole stack."""

    project_dir: Path = field(default_factory=Path.cwd)
    """Project root (component code and local data are relative to it)."""

    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict[str, pulumi.Input[str]])
    """Secret config values the spec names by key (``admin_password_config_key``, ...)."""

    registry: FlavorRegistry | None = None
    """Backend registry; default: the process-wide one."""


class MlopsStack(pulumi.ComponentResource):
    """A whole MLOps stack from one spec, each concept a child component.

    Foundation, artifact store, tracking server, clusters, jobs, pipelines and gated
    endpoints.

    Children are named ``<name>-<concept>[-<item>]``; those names are part of the
    resources' identities (URNs) and do not change between releases.
    """

    def __init__(
        self, name: str, args: MlopsStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Creates every component of ``args.spec``."""
        super().__init__(f"{TYPE_PREFIX}MlopsStack", name, None, opts)
        spec = args.spec
        target = Target.from_spec(
            spec,
            project_dir=args.project_dir,
            stack_name=pulumi.get_stack(),
            registry=args.registry,
        )
        child = pulumi.ResourceOptions(parent=self)

        self._foundation: Foundation = Foundation(
            name, FoundationArgs(target=target, uses=_flavors_used(spec, target)), child
        )
        base = self.foundation.ref
        self._artifact_store: ArtifactStore = ArtifactStore(
            component_name(name, "store"),
            ArtifactStoreArgs(target=target, spec=spec.artifact_store, foundation=base),
            child,
        )
        store = self.artifact_store.ref
        self._tracking: TrackingServer = TrackingServer(
            component_name(name, "tracking"),
            TrackingServerArgs(
                target=target,
                spec=spec.tracking,
                store=store,
                admin_password=_secret(args.secrets, spec.tracking.admin_password_config_key)
                or _secret(
                    args.secrets,
                    spec.tracking.existing.password_config_key if spec.tracking.existing else None,
                ),
                foundation=base,
            ),
            child,
        )
        tracking = self.tracking.ref
        self._clusters: dict[str, TrainingCluster] = {
            c.name: TrainingCluster(
                component_name(name, "cluster", c.name),
                TrainingClusterArgs(
                    target=target, spec=c, foundation=base, tracking=tracking, store=store
                ),
                child,
            )
            for c in spec.clusters
        }
        compute = {cluster_name: c.ref for cluster_name, c in self.clusters.items()}
        self._jobs: dict[str, TrainingJob] = {
            j.name: TrainingJob(
                component_name(name, "job", j.name),
                TrainingJobArgs(
                    target=target,
                    spec=j,
                    store=store,
                    tracking=tracking,
                    cluster=compute.get(j.cluster) if j.cluster else None,
                    foundation=base,
                ),
                child,
            )
            for j in spec.jobs
        }
        self._pipelines: dict[str, Pipeline] = {
            p.name: Pipeline(
                component_name(name, "pipeline", p.name),
                PipelineArgs(
                    target=target,
                    spec=p,
                    store=store,
                    tracking=tracking,
                    clusters=compute,
                    foundation=base,
                ),
                child,
            )
            for p in spec.pipelines
        }
        producers: dict[str, Pipeline | TrainingJob] = {
            p.model_name: p for p in self.pipelines.values()
        }
        producers.update({j.output_model: self.jobs[j.name] for j in spec.jobs if j.output_model})
        self._endpoints: dict[str, ServingEndpoint] = {}
        references: dict[str, pulumi.StackReference] = {}
        for e in spec.endpoints:
            producer = producers.get(e.model)
            evidence: dict[str, pulumi.Output[list[str]]] = {}
            for environment in e.gate.passed_in if e.gate else ():
                if environment not in references:
                    references[environment] = pulumi.StackReference(
                        component_name(name, "evidence", environment),
                        stack_name=_stack_of(environment),
                        opts=child,
                    )
                evidence[environment] = (
                    references[environment]
                    .get_output("endpoints")
                    .apply(lambda endpoints, endpoint=e.name: _passed_versions(endpoints, endpoint))
                )
            self._endpoints[e.name] = ServingEndpoint(
                component_name(name, "endpoint", e.name),
                ServingEndpointArgs(
                    target=target,
                    spec=e,
                    tracking=tracking,
                    store=store,
                    candidate_version=producer.model_version if producer else None,
                    evidence=pulumi.Output.all(**evidence) if evidence else None,
                    foundation=base,
                ),
                pulumi.ResourceOptions(parent=self, depends_on=[producer] if producer else None),
            )
        self.register_outputs(self.summary())

    @property
    def foundation(self) -> Foundation:
        """Shared network, registry and keys."""
        return self._foundation

    @property
    def artifact_store(self) -> ArtifactStore:
        """The artifact store."""
        return self._artifact_store

    @property
    def tracking(self) -> TrackingServer:
        """The tracking server and model registry."""
        return self._tracking

    @property
    def clusters(self) -> dict[str, TrainingCluster]:
        """Training clusters by name."""
        return self._clusters

    @property
    def jobs(self) -> dict[str, TrainingJob]:
        """Training jobs by name."""
        return self._jobs

    @property
    def pipelines(self) -> dict[str, Pipeline]:
        """Pipelines by name."""
        return self._pipelines

    @property
    def endpoints(self) -> dict[str, ServingEndpoint]:
        """Serving endpoints by name."""
        return self._endpoints

    def summary(self) -> dict[str, Any]:
        """Stack outputs: URLs, versions and gate decisions, keyed for humans and CI."""
        return {
            "artifact_uri": self.artifact_store.uri,
            "tracking_url": self.tracking.url,
            "pipelines": {
                name: {
                    "version": p.version,
                    "deployed_version": p.deployed_version,
                    "model_name": p.model_name,
                    "model_version": p.model_version,
                    "run_id": p.run_id,
                }
                for name, p in self.pipelines.items()
            },
            "jobs": {
                name: {"version": j.version, "run_id": j.run_id, "model_version": j.model_version}
                for name, j in self.jobs.items()
            },
            "endpoints": {
                name: {
                    "url": e.url,
                    "model": e.model_name,
                    "model_version": e.model_version,
                    "status": e.status,
                    "decision": e.decision,
                }
                for name, e in self.endpoints.items()
            },
        }


def _stack_of(environment: str) -> str:
    """The stack holding ``environment``: by convention, stacks are named after environments."""
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{environment}"


def _passed_versions(endpoints: object, endpoint: str) -> list[str]:
    """Pipeline versions that passed ``endpoint``'s gate, from another stack's outputs."""
    node: object = endpoints
    for key in (endpoint, "decision", "passed_pipeline_versions"):
        node = typing.cast(dict[str, object], node).get(key) if isinstance(node, dict) else None
    return [str(v) for v in typing.cast(list[object], node)] if isinstance(node, list) else []


def _secret(secrets: Mapping[str, pulumi.Input[str]], key: str | None) -> pulumi.Input[str] | None:
    if key is None:
        return None
    return secrets.get(key)


def _flavors_used(spec: StackSpec, target: Target) -> frozenset[str]:
    """``<kind>/<flavor>`` of every component ``spec`` builds (defaults resolved)."""
    items: list[tuple[str, str | None]] = [
        ("artifact_store", spec.artifact_store.flavor),
        ("tracking_server", spec.tracking.flavor),
        *(("training_cluster", c.flavor) for c in spec.clusters),
        *(("training_job", j.flavor) for j in spec.jobs),
        *(("pipeline", p.flavor) for p in spec.pipelines),
        *(("serving_endpoint", e.flavor) for e in spec.endpoints),
    ]
    backends = target.backends
    return frozenset(
        f"{kind}/{backends.flavor(target.cloud, kind, flavor).name}" for kind, flavor in items
    )
