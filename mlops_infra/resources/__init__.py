"""Cloud-agnostic Pulumi components (``mlops:index:<Type>``), their args and backend contracts."""

from mlops_infra.resources._component import (
    TYPE_PREFIX,
    Backend,
    BuildContext,
    decode_component_inputs,
)
from mlops_infra.resources.artifact_store import (
    ArtifactStore,
    ArtifactStoreArgs,
    ArtifactStoreBackend,
    StoreRef,
)
from mlops_infra.resources.foundation import (
    Foundation,
    FoundationArgs,
    FoundationBackend,
    FoundationRef,
)
from mlops_infra.resources.pipeline import (
    Pipeline,
    PipelineArgs,
    PipelineBackend,
    PipelineResult,
    waits_for_run,
)
from mlops_infra.resources.serving_endpoint import (
    EndpointResult,
    ServedModel,
    ServingEndpoint,
    ServingEndpointArgs,
    ServingEndpointBackend,
)
from mlops_infra.resources.stack import MlopsStack, MlopsStackArgs
from mlops_infra.resources.target import Target
from mlops_infra.resources.tracking_server import (
    TrackingRef,
    TrackingServer,
    TrackingServerArgs,
    TrackingServerBackend,
)
from mlops_infra.resources.training_cluster import (
    ComputeRef,
    TrainingCluster,
    TrainingClusterArgs,
    TrainingClusterBackend,
)
from mlops_infra.resources.training_job import (
    JobResult,
    TrainingJob,
    TrainingJobArgs,
    TrainingJobBackend,
)

__all__ = [
    "TYPE_PREFIX",
    "ArtifactStore",
    "ArtifactStoreArgs",
    "ArtifactStoreBackend",
    "Backend",
    "BuildContext",
    "ComputeRef",
    "EndpointResult",
    "Foundation",
    "FoundationArgs",
    "FoundationBackend",
    "FoundationRef",
    "JobResult",
    "MlopsStack",
    "MlopsStackArgs",
    "Pipeline",
    "PipelineArgs",
    "PipelineBackend",
    "PipelineResult",
    "ServedModel",
    "ServingEndpoint",
    "ServingEndpointArgs",
    "ServingEndpointBackend",
    "StoreRef",
    "Target",
    "TrackingRef",
    "TrackingServer",
    "TrackingServerArgs",
    "TrackingServerBackend",
    "TrainingCluster",
    "TrainingClusterArgs",
    "TrainingClusterBackend",
    "TrainingJob",
    "TrainingJobArgs",
    "TrainingJobBackend",
    "decode_component_inputs",
    "waits_for_run",
]
