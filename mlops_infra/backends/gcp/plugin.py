"""Registers the gcp cloud and its flavors (imports no cloud SDK)."""

from __future__ import annotations

from pydantic import BaseModel

from mlops_infra.backends.gcp.gpus import GCP_GPUS
from mlops_infra.backends.gcp.options import (
    CloudRunJobOptions,
    CloudRunServingOptions,
    CloudRunTrackingOptions,
    GcsStoreOptions,
    GkeClusterOptions,
    VertexClusterOptions,
    VertexJobOptions,
    WorkflowsPipelineOptions,
)
from mlops_infra.registry import CloudInfo, Flavor, Registry

__all__ = ["FLAVORS", "register"]

_PACKAGE = "mlops_infra.backends.gcp"

FLAVORS: tuple[tuple[str, str, str, str, type[BaseModel] | None, bool], ...] = (
    (
        "foundation",
        "default",
        "foundation:GcpFoundation",
        "VPC network (optional), Artifact Registry, KMS key for secrets and data",
        None,
        True,
    ),
    (
        "artifact_store",
        "gcs",
        "artifact_store:GcsArtifactStore",
        "GCS bucket: uniform access, public access prevention, versioning, CMEK, lifecycle",
        GcsStoreOptions,
        True,
    ),
    (
        "tracking_server",
        "cloud-run",
        "tracking_server:CloudRunTrackingServer",
        "MLflow on Cloud Run (internal ingress, basic auth) over private Cloud SQL PostgreSQL",
        CloudRunTrackingOptions,
        True,
    ),
    (
        "training_cluster",
        "vertex",
        "training_cluster:VertexTrainingCluster",
        "Vertex AI per-job compute: nothing standing, zero cost when idle",
        VertexClusterOptions,
        True,
    ),
    (
        "training_cluster",
        "gke",
        "training_cluster:GkeTrainingCluster",
        "GKE cluster with a node pool scaling to zero (GPU, spot optional)",
        GkeClusterOptions,
        False,
    ),
    (
        "training_job",
        "vertex",
        "training_job:VertexTrainingJob",
        "one Vertex AI CustomJob per version (submitted at pulumi up)",
        VertexJobOptions,
        True,
    ),
    (
        "training_job",
        "cloud-run",
        "training_job:CloudRunTrainingJob",
        "Cloud Run job (L4 GPU optional) run once per version, waited for at pulumi up",
        CloudRunJobOptions,
        False,
    ),
    (
        "pipeline",
        "workflows",
        "pipeline:WorkflowsPipeline",
        "versioned package in GCS, Cloud Workflows DAG of Vertex AI jobs, Cloud Scheduler",
        WorkflowsPipelineOptions,
        True,
    ),
    (
        "serving_endpoint",
        "cloud-run",
        "serving_endpoint:CloudRunServingEndpoint",
        "MLflow model server on Cloud Run behind the promotion gate (L4 GPU, canary split)",
        CloudRunServingOptions,
        True,
    ),
)
"""``(kind, flavor, module:Class, description, options, default)`` of every GCP flavor."""


def register(registry: Registry) -> None:
    """Declares the ``gcp`` cloud and its flavors."""
    registry.register_cloud(
        CloudInfo(
            name="gcp",
            description="Google Cloud: Cloud Storage, Cloud Run, Vertex AI, Artifact Registry",
            gpus=GCP_GPUS,
            sdk_module="pulumi_gcp",
            extra="gcp",
        )
    )
    for kind, name, implementation, description, options, default in FLAVORS:
        registry.register_flavor(
            Flavor(
                cloud="gcp",
                kind=kind,
                name=name,
                implementation=f"{_PACKAGE}.{implementation}",
                description=description,
                options=options,
                default=default,
                requires=("pulumi_gcp",),
                extra="gcp",
            )
        )
