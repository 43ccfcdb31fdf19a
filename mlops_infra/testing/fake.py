"""An in-memory fake cloud: test stacks and components without any cloud SDK.

Its backends register ``fake:index:<Type>`` custom resources whose inputs mirror the
spec, so a mock run shows exactly what each component asked for. Use it under mocks
(:func:`mlops_infra.offline.run_offline`); there is no engine plugin for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from mlops_infra.catalog.gpus import GpuOffers, offers_from_table
from mlops_infra.registry import CloudInfo, Flavor, FlavorRegistry
from mlops_infra.resources import (
    ArtifactStoreArgs,
    ArtifactStoreBackend,
    BuildContext,
    ComputeRef,
    EndpointResult,
    FoundationArgs,
    FoundationBackend,
    FoundationRef,
    JobResult,
    PipelineArgs,
    PipelineBackend,
    PipelineResult,
    ServedModel,
    ServingEndpointArgs,
    ServingEndpointBackend,
    StoreRef,
    TrackingRef,
    TrackingServerArgs,
    TrackingServerBackend,
    TrainingClusterArgs,
    TrainingClusterBackend,
    TrainingJobArgs,
    TrainingJobBackend,
)
from mlops_infra.resources.training_cluster import node_shape
from mlops_infra.specs import (
    ArtifactStoreSpec,
    PipelineSpec,
    ServingEndpointSpec,
    TrackingServerSpec,
    TrainingClusterSpec,
    TrainingJobSpec,
    effective_tracking,
    min_replicas_of,
)
from mlops_infra.versioning import VersionManifest

__all__ = ["FAKE_CLOUD", "FAKE_GPUS", "FakeResource", "fake_registry", "register"]

FAKE_CLOUD = "fake"
"""Name of the fake cloud."""

FAKE_GPUS = GpuOffers(
    cloud=FAKE_CLOUD,
    training=offers_from_table(
        {
            "t4": [(1, "fake.t4.1"), (2, "fake.t4.2"), (4, "fake.t4.4")],
            "a100-80gb": [(8, "fake.a100.8")],
        }
    ),
    serving=offers_from_table({"t4": [(1, "fake.t4.1")]}),
)
"""GPU shapes of the fake cloud: t4 x 1/2/4 and a100-80gb x 8 for training, t4 x 1 for serving."""


class FakeResource(pulumi.CustomResource):
    """A ``fake:index:<kind>`` resource; under mocks its outputs echo its inputs."""

    def __init__(
        self,
        kind: str,
        name: str,
        props: Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Registers the fake resource ``name`` of ``kind`` with ``props`` as inputs."""
        super().__init__(f"fake:index:{kind}", name, dict(props), opts)

    def output(self, key: str) -> pulumi.Output[Any]:
        """Returns the output property ``key``."""
        value: pulumi.Output[Any] = getattr(self, key)
        return value


class FakeFoundation(FoundationBackend):
    def create(self, ctx: BuildContext[FoundationArgs]) -> FoundationRef:
        target = ctx.target
        registry = (
            FakeResource(
                "Registry",
                ctx.child_name("registry"),
                {
                    "immutableTags": target.container_registry.immutable_tags,
                    "scanOnPush": target.container_registry.scan_on_push,
                    "tags": ctx.tags(),
                },
                ctx.opts(stateful=True),
            )
            if target.container_registry.create
            else None
        )
        return FoundationRef(registry_url=registry.id if registry else None)


class FakeArtifactStore(ArtifactStoreBackend):
    def create(self, ctx: BuildContext[ArtifactStoreArgs], spec: ArtifactStoreSpec) -> StoreRef:
        bucket = FakeResource(
            "Bucket",
            ctx.child_name(),
            {
                "versioning": spec.versioning,
                "lifecycle": [rule.model_dump() for rule in spec.lifecycle],
                "purgeOnDelete": spec.purge_on_delete,
                "tags": ctx.tags(),
            },
            ctx.opts(stateful=True),
        )
        return StoreRef(uri=bucket.id.apply(lambda i: f"fake://{i}"))


class FakeTrackingServer(TrackingServerBackend):
    def create(
        self, ctx: BuildContext[TrackingServerArgs], spec: TrackingServerSpec
    ) -> TrackingRef:
        auth = bool(effective_tracking(spec, ctx.target.profile).auth)
        server = FakeResource(
            "TrackingServer",
            ctx.child_name(),
            {
                "artifactUri": ctx.args.store.uri,
                "size": spec.size,
                "auth": auth,
                "adminPassword": pulumi.Output.secret(ctx.args.admin_password or "generated"),
            },
            ctx.opts(stateful=True, additional_secret_outputs=["adminPassword"]),
        )
        return TrackingRef(
            url=server.id.apply(lambda i: f"https://{i}.fake"),
            username="admin" if auth else None,
            password=server.output("adminPassword") if auth else None,
        )


class FakeTrainingCluster(TrainingClusterBackend):
    def create(
        self, ctx: BuildContext[TrainingClusterArgs], spec: TrainingClusterSpec
    ) -> ComputeRef:
        offer = node_shape(ctx.target, spec, "training")
        instance_type = offer.instance_type if offer else spec.instance_type or "fake.cpu"
        pool = FakeResource(
            "NodePool",
            ctx.child_name(),
            {
                "instanceType": instance_type,
                "minNodes": spec.min_nodes,
                "maxNodes": spec.max_nodes,
                "spot": spec.spot,
            },
            ctx.opts(),
        )
        return ComputeRef(
            name=spec.name,
            id=pool.id,
            gpu=spec.gpu,
            gpus_per_node=spec.gpu_count if spec.gpu else 0,
            instance_type=instance_type,
            max_nodes=spec.max_nodes,
            spot=spec.spot,
        )


class FakeTrainingJob(TrainingJobBackend):
    def create(
        self, ctx: BuildContext[TrainingJobArgs], spec: TrainingJobSpec, manifest: VersionManifest
    ) -> JobResult:
        job_name = f"{ctx.name}-{manifest.version[:12]}"
        FakeResource(
            "Job",
            ctx.child_name(),
            {
                "jobName": job_name,
                "component": spec.component,
                "version": manifest.version,
                "cluster": ctx.args.cluster.id if ctx.args.cluster else None,
                "trackingUri": ctx.args.tracking.url,
            },
            ctx.opts(replace_on_changes=["version"]),
        )
        return JobResult(job_name=job_name)


class FakePipeline(PipelineBackend):
    def create(
        self, ctx: BuildContext[PipelineArgs], spec: PipelineSpec, manifest: VersionManifest
    ) -> PipelineResult:
        deployed = spec.version or manifest.version
        package_uri = pulumi.Output.concat(ctx.args.store.uri, f"/pipelines/{spec.name}/{deployed}")
        pipeline = FakeResource(
            "Pipeline",
            ctx.child_name(),
            {
                "version": deployed,
                "packageUri": package_uri,
                "steps": [step.name for step in spec.ordered_steps()],
                "schedule": spec.schedule.cron if spec.schedule else None,
            },
            ctx.opts(),
        )
        return PipelineResult(
            pipeline_id=pipeline.id, package_uri=package_uri, deployed_version=deployed
        )


class FakeServingEndpoint(ServingEndpointBackend):
    def create(
        self, ctx: BuildContext[ServingEndpointArgs], spec: ServingEndpointSpec, served: ServedModel
    ) -> EndpointResult:
        offer = node_shape(ctx.target, spec, "serving")
        endpoint = FakeResource(
            "Endpoint",
            ctx.child_name(),
            {
                "model": spec.model,
                "alias": spec.alias,
                "instanceType": offer.instance_type if offer else spec.instance_type or "fake.cpu",
                "minReplicas": min_replicas_of(spec, ctx.target.profile),
                "maxReplicas": spec.max_replicas,
                "public": spec.public,
                "gate": spec.gate.model_dump() if spec.gate else None,
                "modelVersion": served.version,
            },
            ctx.opts(),
        )
        return EndpointResult(
            url=endpoint.id.apply(lambda i: f"https://{i}.fake/invocations"),
            deployed_version=served.version,
            deployment=[endpoint],
        )


_MODULE = __name__
_FLAVORS = {
    "foundation": "FakeFoundation",
    "artifact_store": "FakeArtifactStore",
    "tracking_server": "FakeTrackingServer",
    "training_cluster": "FakeTrainingCluster",
    "training_job": "FakeTrainingJob",
    "pipeline": "FakePipeline",
    "serving_endpoint": "FakeServingEndpoint",
}


def register(registry: FlavorRegistry) -> None:
    """Registers the fake cloud and one default ``memory`` flavor per kind."""
    registry.register_cloud(
        CloudInfo(
            name=FAKE_CLOUD,
            description="In-memory fake cloud for tests",
            gpus=FAKE_GPUS,
            plan_rules="mlops_infra.testing.fake_plan:PLAN_RULES",
        )
    )
    for kind, class_name in _FLAVORS.items():
        registry.register_flavor(
            Flavor(
                cloud=FAKE_CLOUD,
                kind=kind,
                name="memory",
                implementation=f"{_MODULE}:{class_name}",
                description=f"fake {kind}",
                default=True,
            )
        )


def fake_registry(*, with_plugins: bool = False) -> FlavorRegistry:
    """Returns a registry holding the fake cloud (and the installed plugins when asked)."""
    registry = FlavorRegistry(load_entry_points=with_plugins)
    with registry.source("mlops_infra.testing.fake"):
        register(registry)
    return registry
