"""Stack facts: the spec-level settings policies and diffs need, as plain data.

Component resources (``mlops:index:*``) register no inputs, so what they were asked for
(GPU shapes, endpoint exposure, gates, the tracking server's authentication) is taken
from the spec and kept beside the resources. Facts read the effective spec the components
build from (:mod:`mlops_infra.specs.effective`), so a policy sees what will be deployed.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from mlops_infra.program import STACK_RESOURCE_NAME
from mlops_infra.resources.stack import component_name as stack_component_name
from mlops_infra.specs import StackSpec, effective_tracking, min_replicas_of

__all__ = [
    "ComputeFact",
    "EndpointFact",
    "ImageFact",
    "LimitsFact",
    "StackFacts",
    "component_name",
]


def component_name(kind: str, item: str | None = None) -> str:
    """Returns the resource name :class:`~mlops_infra.MlopsStack` gives a component of the program.

    Args:
        kind: ``store``, ``tracking``, ``cluster``, ``job``, ``pipeline`` or ``endpoint``.
        item: The item's name in the spec (clusters, jobs, pipelines, endpoints).
    """
    return stack_component_name(STACK_RESOURCE_NAME, kind, item)


@dataclass(frozen=True)
class LimitsFact:
    """GPU and cost guardrails (``StackSpec.limits``).

    Attributes:
        max_gpus_per_node: Most GPUs any one node may have.
        max_total_gpus: Most GPUs all clusters and endpoints together may run at full scale.
        max_hourly_usd: Most the compute may cost per hour at full scale; ``None``: no cap.
    """

    max_gpus_per_node: int = 8
    max_total_gpus: int = 64
    max_hourly_usd: float | None = None


@dataclass(frozen=True)
class ComputeFact:
    """The nodes a cluster or endpoint runs on, at full scale.

    Attributes:
        kind: ``cluster`` or ``endpoint``.
        name: Its name in the spec.
        component: Resource name of its component (``mlops-cluster-gpu``).
        gpu: Portable GPU name, or ``None`` for CPU.
        gpu_count: GPUs per node (0 without ``gpu``).
        instance_type: Cloud-specific instance type, when given instead of ``gpu``.
        max_nodes: Most nodes (clusters) or replicas (endpoints) at once.
        spot: Runs on spot capacity.
    """

    kind: str
    name: str
    component: str
    gpu: str | None = None
    gpu_count: int = 0
    instance_type: str | None = None
    max_nodes: int = 1
    spot: bool = False

    @property
    def total_gpus(self) -> int:
        """GPUs at full scale."""
        return self.gpu_count * self.max_nodes


@dataclass(frozen=True)
class EndpointFact:
    """A serving endpoint as it will be deployed.

    Attributes:
        name: Its name in the spec.
        component: Resource name of its component.
        model: Registered model served.
        alias: Registry alias it follows.
        public: Exposed outside the private network.
        gated: Has a promotion gate.
        min_replicas: Replicas kept running (the tier's default applied).
        max_replicas: Most replicas.
    """

    name: str
    component: str
    model: str
    alias: str
    public: bool = False
    gated: bool = False
    min_replicas: int = 1
    max_replicas: int = 2


@dataclass(frozen=True)
class ImageFact:
    """A container image a workload runs.

    Attributes:
        component: Resource name of the component running it (pipeline or job).
        owner: Where it is set, in words (``pipeline churn, step train``).
        image: The image reference.
    """

    component: str
    owner: str
    image: str


@dataclass(frozen=True)
class StackFacts:
    """Stack-wide settings a policy or a diff needs, derived from the spec.

    Attributes:
        cloud: Cloud of the stack.
        environment: Environment name.
        tier: Tier (``local``, ``development``, ``staging``, ``production``).
        protect_stateful: Stateful resources are protected.
        region: Region, if set.
        tags: The stack's own tags.
        limits: GPU and cost guardrails.
        tracking_auth: The created tracking server requires authentication
            (``None`` when an existing one is adopted).
        store_versioning: The created artifact store keeps object versions
            (``None`` when an existing store is adopted).
        store_purge_on_delete: Destroying the artifact store deletes its data.
        tracking_purge_on_delete: Destroying the tracking server deletes its data.
        network: ``create``, ``existing`` or ``default``.
        permissions_boundary: Permissions boundary every role must carry, if set.
        registry_immutable_tags: The container registry's tags are immutable.
        registry_scan_on_push: Images are scanned when pushed.
        compute: Clusters and endpoints at full scale.
        endpoints: Serving endpoints.
        images: Workload images.
    """

    cloud: str = "local"
    environment: str = "local"
    tier: str = "local"
    protect_stateful: bool = False
    region: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict[str, str])
    limits: LimitsFact = field(default_factory=LimitsFact)
    tracking_auth: bool | None = None
    store_versioning: bool | None = True
    store_purge_on_delete: bool = False
    tracking_purge_on_delete: bool = False
    network: str = "default"
    permissions_boundary: str | None = None
    registry_immutable_tags: bool = True
    registry_scan_on_push: bool = True
    compute: tuple[ComputeFact, ...] = ()
    endpoints: tuple[EndpointFact, ...] = ()
    images: tuple[ImageFact, ...] = ()

    @property
    def is_production(self) -> bool:
        """Whether the stack is in the production tier."""
        return self.tier == "production"

    def compute_of(self, component: str) -> ComputeFact | None:
        """Returns the compute of the component named ``component``, if any."""
        return next((c for c in self.compute if c.component == component), None)

    def endpoint_of(self, component: str) -> EndpointFact | None:
        """Returns the endpoint whose component is named ``component``, if any."""
        return next((e for e in self.endpoints if e.component == component), None)

    @classmethod
    def from_spec(cls, spec: StackSpec) -> StackFacts:
        """Derives the facts of ``spec``, with the tier's defaults applied."""
        profile = spec.profile
        tracking = effective_tracking(spec.tracking, profile)
        store = spec.artifact_store
        network = (
            "create" if spec.network.create else "existing" if spec.network.existing else "default"
        )
        compute = [
            ComputeFact(
                kind="cluster",
                name=c.name,
                component=component_name("cluster", c.name),
                gpu=c.gpu,
                gpu_count=c.gpu_count if c.gpu else 0,
                instance_type=c.instance_type,
                max_nodes=c.max_nodes,
                spot=c.spot,
            )
            for c in spec.clusters
            if c.existing is None
        ]
        compute += [
            ComputeFact(
                kind="endpoint",
                name=e.name,
                component=component_name("endpoint", e.name),
                gpu=e.gpu,
                gpu_count=e.gpu_count if e.gpu else 0,
                instance_type=e.instance_type,
                max_nodes=e.max_replicas,
            )
            for e in spec.endpoints
        ]
        endpoints = tuple(
            EndpointFact(
                name=e.name,
                component=component_name("endpoint", e.name),
                model=e.model,
                alias=e.alias,
                public=e.public,
                gated=e.gate is not None,
                min_replicas=min_replicas_of(e, profile),
                max_replicas=e.max_replicas,
            )
            for e in spec.endpoints
        )
        images: list[ImageFact] = []
        for p in spec.pipelines:
            for step in p.steps:
                image = step.image or p.image
                if image:
                    images.append(
                        ImageFact(
                            component=component_name("pipeline", p.name),
                            owner=f"pipeline {p.name}, step {step.name}",
                            image=image,
                        )
                    )
        images += [
            ImageFact(component=component_name("job", j.name), owner=f"job {j.name}", image=j.image)
            for j in spec.jobs
            if j.image
        ]
        return cls(
            cloud=spec.cloud,
            environment=spec.environment,
            tier=profile.tier,
            protect_stateful=spec.protects_stateful,
            region=spec.region,
            tags=dict(spec.tags),
            limits=LimitsFact(
                max_gpus_per_node=spec.limits.max_gpus_per_node,
                max_total_gpus=spec.limits.max_total_gpus,
                max_hourly_usd=spec.limits.max_hourly_usd,
            ),
            tracking_auth=tracking.auth,
            store_versioning=None if store.existing is not None else store.versioning,
            store_purge_on_delete=store.purge_on_delete,
            tracking_purge_on_delete=tracking.purge_on_delete,
            network=network,
            permissions_boundary=spec.identity.permissions_boundary,
            registry_immutable_tags=spec.registry.immutable_tags,
            registry_scan_on_push=spec.registry.scan_on_push,
            compute=tuple(compute),
            endpoints=endpoints,
            images=tuple(images),
        )

    def to_dict(self) -> dict[str, Any]:
        """Returns the facts as JSON-ready data."""
        data = asdict(self)
        data["tags"] = dict(self.tags)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StackFacts:
        """Reads facts written by :meth:`to_dict` (unknown keys are ignored)."""
        known = {f for f in cls.__dataclass_fields__ if f in data}
        values: dict[str, Any] = {key: data[key] for key in known}
        values["tags"] = dict(typing.cast(Mapping[str, str], data.get("tags") or {}))
        values["limits"] = LimitsFact(**typing.cast(Mapping[str, Any], data.get("limits") or {}))
        values["compute"] = tuple(
            ComputeFact(**item)
            for item in typing.cast(list[dict[str, Any]], data.get("compute", []))
        )
        values["endpoints"] = tuple(
            EndpointFact(**item)
            for item in typing.cast(list[dict[str, Any]], data.get("endpoints", []))
        )
        values["images"] = tuple(
            ImageFact(**item) for item in typing.cast(list[dict[str, Any]], data.get("images", []))
        )
        return cls(**values)
