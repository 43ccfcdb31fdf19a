"""Stack facts: the component settings policies and diffs need, as plain data.

Facts are read from what the components registered (:mod:`mlops_infra.plan.components`):
each ``mlops:index:*`` component registers its effective spec (tier defaults applied) and
its target, so a policy sees what was built, by whatever program built it.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from mlops_infra.plan.components import RegisteredComponent, registered_components

if TYPE_CHECKING:
    from mlops_infra.plan.model import PlannedResource

__all__ = [
    "ComputeFact",
    "EndpointFact",
    "ImageFact",
    "LimitsFact",
    "StackFacts",
]


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
    """Settings a policy or a diff needs, as the components registered them.

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
    def from_target(cls, target: Mapping[str, Any], **facts: Any) -> StackFacts:
        """Returns the facts of a registered target (``Target.inputs()``), with ``facts`` added."""
        limits = _mapping(target.get("limits"))
        return cls(
            cloud=str(target.get("cloud", "local")),
            environment=str(target.get("environment", "local")),
            tier=str(target.get("tier", "local")),
            protect_stateful=bool(target.get("protect_stateful", False)),
            region=typing.cast(str | None, target.get("region")),
            tags={str(k): str(v) for k, v in _mapping(target.get("tags")).items()},
            limits=LimitsFact(
                max_gpus_per_node=int(limits.get("max_gpus_per_node", 8)),
                max_total_gpus=int(limits.get("max_total_gpus", 64)),
                max_hourly_usd=typing.cast(float | None, limits.get("max_hourly_usd")),
            ),
            network=str(target.get("network", "default")),
            permissions_boundary=typing.cast(str | None, target.get("permissions_boundary")),
            registry_immutable_tags=bool(target.get("registry_immutable_tags", True)),
            registry_scan_on_push=bool(target.get("registry_scan_on_push", True)),
            **facts,
        )

    @classmethod
    def from_components(cls, resources: Iterable[PlannedResource]) -> StackFacts | None:
        """Returns the facts of the components among ``resources``, as they registered them.

        The stack-wide settings come from the foundation's target (else the first
        component's); ``None`` when no component registered its inputs.
        """
        components = registered_components(resources)
        if not components:
            return None
        foundation = _first(components, "Foundation") or components[0]
        tracking = _first(components, "TrackingServer")
        store = _first(components, "ArtifactStore")
        return cls.from_target(
            foundation.target,
            tracking_auth=(
                None
                if tracking is None or "existing" in tracking.spec
                else bool(tracking.spec.get("auth"))
            ),
            store_versioning=(
                None
                if store is None or "existing" in store.spec
                else bool(store.spec.get("versioning", True))
            ),
            store_purge_on_delete=bool(store and store.spec.get("purge_on_delete")),
            tracking_purge_on_delete=bool(tracking and tracking.spec.get("purge_on_delete")),
            compute=tuple(
                [_compute("cluster", c, "max_nodes") for c in _all(components, "TrainingCluster")]
                + [_compute("endpoint", e, "max_replicas") for e in _endpoints(components)]
            ),
            endpoints=tuple(_endpoint(e) for e in _endpoints(components)),
            images=tuple(_images(components)),
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


def _mapping(value: object) -> Mapping[str, Any]:
    return typing.cast(Mapping[str, Any], value) if isinstance(value, Mapping) else {}


def _first(components: Iterable[RegisteredComponent], kind: str) -> RegisteredComponent | None:
    return next((c for c in components if c.kind == kind), None)


def _all(components: Iterable[RegisteredComponent], kind: str) -> list[RegisteredComponent]:
    return [c for c in components if c.kind == kind and "existing" not in c.spec]


def _endpoints(components: Iterable[RegisteredComponent]) -> list[RegisteredComponent]:
    return _all(components, "ServingEndpoint")


def _compute(kind: str, component: RegisteredComponent, most: str) -> ComputeFact:
    spec = component.spec
    gpu = typing.cast(str | None, spec.get("gpu"))
    return ComputeFact(
        kind=kind,
        name=str(spec.get("name", component.name)),
        component=component.name,
        gpu=gpu,
        gpu_count=int(spec.get("gpu_count", 1)) if gpu else 0,
        instance_type=typing.cast(str | None, spec.get("instance_type")),
        max_nodes=int(spec.get(most, 1)),
        spot=bool(spec.get("spot", False)),
    )


def _endpoint(component: RegisteredComponent) -> EndpointFact:
    spec = component.spec
    return EndpointFact(
        name=str(spec.get("name", component.name)),
        component=component.name,
        model=str(spec.get("model", "")),
        alias=str(spec.get("alias", "")),
        public=bool(spec.get("public", False)),
        gated=spec.get("gate") is not None,
        min_replicas=int(spec.get("min_replicas", 1)),
        max_replicas=int(spec.get("max_replicas", 2)),
    )


def _images(components: Iterable[RegisteredComponent]) -> Iterable[ImageFact]:
    listed = list(components)
    for pipeline in (c for c in listed if c.kind == "Pipeline"):
        name = pipeline.spec.get("name", pipeline.name)
        steps = typing.cast(list[Mapping[str, Any]], pipeline.spec.get("steps") or [])
        for step in steps:
            image = step.get("image") or pipeline.spec.get("image")
            if image:
                yield ImageFact(
                    component=pipeline.name,
                    owner=f"pipeline {name}, step {step.get('name')}",
                    image=str(image),
                )
    for job in (c for c in listed if c.kind == "TrainingJob"):
        image = job.spec.get("image")
        if image:
            yield ImageFact(
                component=job.name, owner=f"job {job.spec.get('name', job.name)}", image=str(image)
            )
