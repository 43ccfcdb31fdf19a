"""Registers the local cloud and its flavors (imports nothing heavy)."""

from __future__ import annotations

from mlops_infra.catalog.gpus import GpuOffers
from mlops_infra.registry import CloudInfo, Flavor, FlavorRegistry

__all__ = ["CLOUD", "FLAVORS", "register"]

_CLOUD = "local"
_PACKAGE = "mlops_infra.backends.local"

CLOUD = CloudInfo(
    name=_CLOUD,
    description="this machine: MLflow, pipeline runner and model servers as processes",
    # Local GPUs are detected when a job runs (nvidia-smi); any shape may be asked for.
    gpus=GpuOffers(cloud=_CLOUD, any_shape=True),
    policies=(f"{_PACKAGE}.policies:RULES",),
    plan_rules=f"{_PACKAGE}.plan:PLAN_RULES",
    runs_pipelines_in_up=True,
)
"""What mlops-infra knows of local: everything cloud-specific is reached from here, lazily."""

FLAVORS: tuple[Flavor, ...] = (
    Flavor(
        cloud=_CLOUD,
        kind="foundation",
        name="none",
        implementation=f"{_PACKAGE}.foundation:LocalFoundation",
        description="nothing shared to create",
        default=True,
    ),
    Flavor(
        cloud=_CLOUD,
        kind="artifact_store",
        name="directory",
        implementation=f"{_PACKAGE}.artifact_store:LocalArtifactStore",
        description="a directory (file:// URI) with retention rules",
        options=f"{_PACKAGE}.options:LocalStoreOptions",
        default=True,
    ),
    Flavor(
        cloud=_CLOUD,
        kind="tracking_server",
        name="mlflow",
        implementation=f"{_PACKAGE}.tracking_server:LocalTrackingServer",
        description="mlflow server process: sqlite registry, served artifacts, loopback only",
        options=f"{_PACKAGE}.options:LocalTrackingOptions",
        default=True,
    ),
    Flavor(
        cloud=_CLOUD,
        kind="training_cluster",
        name="slots",
        implementation=f"{_PACKAGE}.training_cluster:LocalTrainingCluster",
        description="local CPU/GPU slots; GPUs detected with nvidia-smi",
        default=True,
    ),
    Flavor(
        cloud=_CLOUD,
        kind="training_job",
        name="process",
        implementation=f"{_PACKAGE}.training_job:LocalTrainingJob",
        description="a subprocess on the local slots, logging to MLflow",
        default=True,
    ),
    Flavor(
        cloud=_CLOUD,
        kind="pipeline",
        name="runner",
        implementation=f"{_PACKAGE}.pipeline:LocalPipeline",
        description="immutable package in the store, DAG run by the local runner",
        default=True,
    ),
    Flavor(
        cloud=_CLOUD,
        kind="serving_endpoint",
        name="mlflow-serve",
        implementation=f"{_PACKAGE}.serving_endpoint:LocalServingEndpoint",
        description="mlflow models serve process behind the promotion gate",
        options=f"{_PACKAGE}.options:LocalEndpointOptions",
        default=True,
    ),
)
"""Every local flavor."""


def register(registry: FlavorRegistry) -> None:
    """Declares the ``local`` cloud and its flavors."""
    registry.register_cloud(CLOUD)
    for flavor in FLAVORS:
        registry.register_flavor(flavor)
