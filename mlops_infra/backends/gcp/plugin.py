"""Registers the gcp cloud and its flavors (imports no cloud SDK)."""

from __future__ import annotations

from mlops_infra.backends.gcp.gpus import GCP_GPUS
from mlops_infra.registry import CloudInfo, Flavor, FlavorRegistry

__all__ = ["CLOUD", "FLAVORS", "register"]

_CLOUD = "gcp"
_PACKAGE = "mlops_infra.backends.gcp"
_SDK = ("pulumi_gcp",)

CLOUD = CloudInfo(
    name=_CLOUD,
    description="Google Cloud: Cloud Storage, Cloud Run, Vertex AI, Artifact Registry",
    gpus=GCP_GPUS,
    sdk_module="pulumi_gcp",
    extra="gcp",
    policies=(f"{_PACKAGE}.policies:RULES",),
    plan_rules=f"{_PACKAGE}.plan:PLAN_RULES",
    mocks=f"{_PACKAGE}.testing:GcpMocks",
    rehearsal=f"{_PACKAGE}.rehearse:CloudWorkflowsRehearsal",
    quotas=f"{_PACKAGE}.quotas:quota_lines",
)
"""What mlops-infra knows of gcp: everything cloud-specific is reached from here, lazily."""

FLAVORS: tuple[Flavor, ...] = (
    Flavor(
        cloud=_CLOUD,
        kind="foundation",
        name="default",
        implementation=f"{_PACKAGE}.foundation:GcpFoundation",
        description="VPC network (optional), Artifact Registry, KMS key for secrets and data",
        options=f"{_PACKAGE}.options:GcpNetworkOptions",
        default=True,
        requires=_SDK,
        extra="gcp",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="artifact_store",
        name="gcs",
        implementation=f"{_PACKAGE}.artifact_store:GcsArtifactStore",
        description=(
            "GCS bucket: uniform access, public access prevention, versioning, CMEK, lifecycle"
        ),
        options=f"{_PACKAGE}.options:GcsStoreOptions",
        default=True,
        requires=_SDK,
        extra="gcp",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="tracking_server",
        name="cloud-run",
        implementation=f"{_PACKAGE}.tracking_server:CloudRunTrackingServer",
        description=(
            "MLflow on Cloud Run (internal ingress, basic auth) over private Cloud SQL PostgreSQL"
        ),
        options=f"{_PACKAGE}.options:CloudRunTrackingOptions",
        default=True,
        requires=_SDK,
        extra="gcp",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="training_cluster",
        name="vertex",
        implementation=f"{_PACKAGE}.training_cluster:VertexTrainingCluster",
        description="Vertex AI per-job compute: nothing standing, zero cost when idle",
        options=f"{_PACKAGE}.options:VertexClusterOptions",
        default=True,
        requires=_SDK,
        extra="gcp",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="training_cluster",
        name="gke",
        implementation=f"{_PACKAGE}.training_cluster:GkeTrainingCluster",
        description="GKE cluster with a node pool scaling to zero (GPU, spot optional)",
        options=f"{_PACKAGE}.options:GkeClusterOptions",
        requires=_SDK,
        extra="gcp",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="training_job",
        name="vertex",
        implementation=f"{_PACKAGE}.training_job:VertexTrainingJob",
        description="one Vertex AI CustomJob per version (submitted at pulumi up)",
        options=f"{_PACKAGE}.options:VertexJobOptions",
        default=True,
        requires=_SDK,
        extra="gcp",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="training_job",
        name="cloud-run",
        implementation=f"{_PACKAGE}.training_job:CloudRunTrainingJob",
        description="Cloud Run job (L4 GPU optional) run once per version, waited for at pulumi up",
        options=f"{_PACKAGE}.options:CloudRunJobOptions",
        requires=_SDK,
        extra="gcp",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="pipeline",
        name="workflows",
        implementation=f"{_PACKAGE}.pipeline:WorkflowsPipeline",
        description=(
            "versioned package in GCS, Cloud Workflows DAG of Vertex AI jobs, Cloud Scheduler"
        ),
        options=f"{_PACKAGE}.options:WorkflowsPipelineOptions",
        default=True,
        requires=_SDK,
        extra="gcp",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="serving_endpoint",
        name="cloud-run",
        implementation=f"{_PACKAGE}.serving_endpoint:CloudRunServingEndpoint",
        description=(
            "MLflow model server on Cloud Run behind the promotion gate (L4 GPU, canary split)"
        ),
        options=f"{_PACKAGE}.options:CloudRunServingOptions",
        default=True,
        requires=_SDK,
        extra="gcp",
    ),
)
"""Every gcp flavor."""


def register(registry: FlavorRegistry) -> None:
    """Declares the ``gcp`` cloud and its flavors."""
    registry.register_cloud(CLOUD)
    for flavor in FLAVORS:
        registry.register_flavor(flavor)
