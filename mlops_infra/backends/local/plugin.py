"""Registers the local cloud and its flavors (imports nothing heavy)."""

from __future__ import annotations

from mlops_infra.backends.local.options import (
    LocalEndpointOptions,
    LocalStoreOptions,
    LocalTrackingOptions,
)
from mlops_infra.catalog.gpus import GpuOffers
from mlops_infra.registry import CloudInfo, Flavor, Registry

__all__ = ["register"]

_PACKAGE = "mlops_infra.backends.local"


def register(registry: Registry) -> None:
    """Declares the ``local`` cloud: real processes and files on this machine."""
    registry.register_cloud(
        CloudInfo(
            name="local",
            description="this machine: MLflow, pipeline runner and model servers as processes",
            # Local GPUs are detected when a job runs (nvidia-smi); any shape may be asked for.
            gpus=GpuOffers(cloud="local", any_shape=True),
        )
    )
    for kind, name, module, cls, description, options in (
        ("foundation", "none", "foundation", "LocalFoundation", "nothing shared to create", None),
        (
            "artifact_store",
            "directory",
            "artifact_store",
            "LocalArtifactStore",
            "a directory (file:// URI) with retention rules",
            LocalStoreOptions,
        ),
        (
            "tracking_server",
            "mlflow",
            "tracking_server",
            "LocalTrackingServer",
            "mlflow server process: sqlite registry, served artifacts, loopback only",
            LocalTrackingOptions,
        ),
        (
            "training_cluster",
            "slots",
            "training_cluster",
            "LocalTrainingCluster",
            "local CPU/GPU slots; GPUs detected with nvidia-smi",
            None,
        ),
        (
            "training_job",
            "process",
            "training_job",
            "LocalTrainingJob",
            "a subprocess on the local slots, logging to MLflow",
            None,
        ),
        (
            "pipeline",
            "runner",
            "pipeline",
            "LocalPipeline",
            "immutable package in the store, DAG run by the local runner",
            None,
        ),
        (
            "serving_endpoint",
            "mlflow-serve",
            "serving_endpoint",
            "LocalServingEndpoint",
            "mlflow models serve process behind the promotion gate",
            LocalEndpointOptions,
        ),
    ):
        registry.register_flavor(
            Flavor(
                cloud="local",
                kind=kind,
                name=name,
                implementation=f"{_PACKAGE}.{module}:{cls}",
                description=description,
                options=options,
                default=True,
            )
        )
