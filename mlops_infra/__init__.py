"""mlops-infra: cloud-agnostic MLOps stacks as Pulumi components.

Declare an artifact store, an MLflow tracking server, GPU training clusters, training
jobs, versioned pipelines and metric-gated serving endpoints once, and deploy them to
AWS, GCP, Azure or the local machine with ``pulumi up``.

Importing this package imports no cloud SDK: each cloud's backend is imported when a
component is first built for that cloud.
"""

from mlops_infra._startup import collection_paused

with collection_paused():
    from mlops_infra.errors import (
        BackendError,
        MissingExtraError,
        MlopsError,
        RegistryError,
        SpecIssue,
        SpecValidationError,
    )
    from mlops_infra.registry import CloudInfo, Flavor, FlavorRegistry, Registry, default_registry
    from mlops_infra.resources import (
        ArtifactStore,
        ArtifactStoreArgs,
        ArtifactStoreBackend,
        Backend,
        BuildContext,
        ComputeRef,
        EndpointResult,
        Foundation,
        FoundationArgs,
        FoundationBackend,
        FoundationRef,
        JobResult,
        MlopsStack,
        MlopsStackArgs,
        Pipeline,
        PipelineArgs,
        PipelineBackend,
        PipelineResult,
        ServedModel,
        ServingEndpoint,
        ServingEndpointArgs,
        ServingEndpointBackend,
        StoreRef,
        Target,
        TrackingRef,
        TrackingServer,
        TrackingServerArgs,
        TrackingServerBackend,
        TrainingCluster,
        TrainingClusterArgs,
        TrainingClusterBackend,
        TrainingJob,
        TrainingJobArgs,
        TrainingJobBackend,
    )
    from mlops_infra.specs import (
        ArtifactStoreSpec,
        ChampionComparison,
        ContainerRegistrySpec,
        DataRef,
        ExistingArtifactStore,
        ExistingNetwork,
        ExistingTrackingServer,
        ExistingTrainingCluster,
        IdentitySpec,
        LifecycleRule,
        LimitsSpec,
        MetricCondition,
        NetworkSpec,
        PipelineSpec,
        PromotionGate,
        ScheduleSpec,
        SecretsSpec,
        ServingEndpointSpec,
        StackSpec,
        StepSpec,
        TrackingServerSpec,
        TrainingClusterSpec,
        TrainingJobSpec,
    )
    from mlops_infra.specs.loading import load_stack_file, spec_from_config

__version__: str
"""The installed distribution's version (``0.0.0`` from an uninstalled source tree)."""


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed distribution when first asked for.

    Looking the distribution up scans the import path (about 8 ms on a 2-CPU machine),
    which no program or plan needs.
    """
    if name != "__version__":
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        found = version("mlops-infra")
    except PackageNotFoundError:  # running from a source tree that is not installed
        found = "0.0.0"
    globals()["__version__"] = found
    return found


__all__ = [
    "ArtifactStore",
    "ArtifactStoreArgs",
    "ArtifactStoreBackend",
    "ArtifactStoreSpec",
    "Backend",
    "BackendError",
    "BuildContext",
    "ChampionComparison",
    "CloudInfo",
    "ComputeRef",
    "ContainerRegistrySpec",
    "DataRef",
    "EndpointResult",
    "ExistingArtifactStore",
    "ExistingNetwork",
    "ExistingTrackingServer",
    "ExistingTrainingCluster",
    "Flavor",
    "FlavorRegistry",
    "Foundation",
    "FoundationArgs",
    "FoundationBackend",
    "FoundationRef",
    "IdentitySpec",
    "JobResult",
    "LifecycleRule",
    "LimitsSpec",
    "MetricCondition",
    "MissingExtraError",
    "MlopsError",
    "MlopsStack",
    "MlopsStackArgs",
    "NetworkSpec",
    "Pipeline",
    "PipelineArgs",
    "PipelineBackend",
    "PipelineResult",
    "PipelineSpec",
    "PromotionGate",
    "Registry",
    "RegistryError",
    "ScheduleSpec",
    "SecretsSpec",
    "ServedModel",
    "ServingEndpoint",
    "ServingEndpointArgs",
    "ServingEndpointBackend",
    "ServingEndpointSpec",
    "SpecIssue",
    "SpecValidationError",
    "StackSpec",
    "StepSpec",
    "StoreRef",
    "Target",
    "TrackingRef",
    "TrackingServer",
    "TrackingServerArgs",
    "TrackingServerBackend",
    "TrackingServerSpec",
    "TrainingCluster",
    "TrainingClusterArgs",
    "TrainingClusterBackend",
    "TrainingClusterSpec",
    "TrainingJob",
    "TrainingJobArgs",
    "TrainingJobBackend",
    "TrainingJobSpec",
    "__version__",
    "default_registry",
    "load_stack_file",
    "spec_from_config",
]
