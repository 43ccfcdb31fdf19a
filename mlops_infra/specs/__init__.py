"""User-facing specs: frozen pydantic models read from stack files (one module per concept)."""

from mlops_infra.specs._base import Name, Spec, Tags
from mlops_infra.specs.artifact_store import ArtifactStoreSpec, ExistingArtifactStore, LifecycleRule
from mlops_infra.specs.compute import ComputeSpec
from mlops_infra.specs.data import DataRef
from mlops_infra.specs.effective import (
    effective_endpoint,
    effective_pipeline,
    effective_tracking,
    min_replicas_of,
    wait_for_run_of,
)
from mlops_infra.specs.environment import EnvironmentProfile, Tier, profile_for
from mlops_infra.specs.gate import ChampionComparison, MetricCondition, Operator, PromotionGate
from mlops_infra.specs.pipeline import PipelineSpec, StepSpec
from mlops_infra.specs.schedule import ScheduleSpec
from mlops_infra.specs.serving_endpoint import ServingEndpointSpec
from mlops_infra.specs.shared import (
    ContainerRegistrySpec,
    ExistingNetwork,
    IdentitySpec,
    LimitsSpec,
    NetworkSpec,
    SecretsSpec,
)
from mlops_infra.specs.stack import SPEC_VERSION, StackSpec
from mlops_infra.specs.tracking_server import ExistingTrackingServer, TrackingServerSpec
from mlops_infra.specs.training_cluster import ExistingTrainingCluster, TrainingClusterSpec
from mlops_infra.specs.training_job import TrainingJobSpec
from mlops_infra.specs.workload import WorkloadSpec

__all__ = [
    "SPEC_VERSION",
    "ArtifactStoreSpec",
    "ChampionComparison",
    "ComputeSpec",
    "ContainerRegistrySpec",
    "DataRef",
    "EnvironmentProfile",
    "ExistingArtifactStore",
    "ExistingNetwork",
    "ExistingTrackingServer",
    "ExistingTrainingCluster",
    "IdentitySpec",
    "LifecycleRule",
    "LimitsSpec",
    "MetricCondition",
    "Name",
    "NetworkSpec",
    "Operator",
    "PipelineSpec",
    "PromotionGate",
    "ScheduleSpec",
    "SecretsSpec",
    "ServingEndpointSpec",
    "Spec",
    "StackSpec",
    "StepSpec",
    "Tags",
    "Tier",
    "TrackingServerSpec",
    "TrainingClusterSpec",
    "TrainingJobSpec",
    "WorkloadSpec",
    "effective_endpoint",
    "effective_pipeline",
    "effective_tracking",
    "min_replicas_of",
    "profile_for",
    "wait_for_run_of",
]
