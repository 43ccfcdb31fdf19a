"""Registers the azure cloud and its flavors (imports no cloud SDK)."""

from __future__ import annotations

from pydantic import BaseModel

from mlops_infra.backends.azure.gpus import AZURE_GPUS
from mlops_infra.backends.azure.options import (
    AzureClusterOptions,
    AzureEndpointOptions,
    AzureFoundationOptions,
    AzureJobOptions,
    AzurePipelineOptions,
    AzureStoreOptions,
    AzureTrackingOptions,
)
from mlops_infra.registry import CloudInfo, Flavor, Registry

__all__ = ["register"]

_PACKAGE = "mlops_infra.backends.azure"
_SDK = ("pulumi_azure_native",)

_FLAVORS: tuple[tuple[str, str, str, str, type[BaseModel] | None], ...] = (
    (
        "foundation",
        "default",
        "foundation:AzureFoundation",
        "resource group, optional virtual network, ACR, Key Vault (RBAC) and a CMK key",
        AzureFoundationOptions,
    ),
    (
        "artifact_store",
        "blob",
        "artifact_store:BlobArtifactStore",
        "StorageV2 account + container: Entra ID only, TLS 1.2, versioning, soft delete",
        AzureStoreOptions,
    ),
    (
        "tracking_server",
        "azureml",
        "tracking_server:AzureMlTrackingServer",
        "Azure Machine Learning workspace: its MLflow endpoint and model registry (Entra ID)",
        AzureTrackingOptions,
    ),
    (
        "training_cluster",
        "amlcompute",
        "training_cluster:AmlComputeCluster",
        "AmlCompute cluster: 0 nodes when idle, low priority for spot, no public IPs",
        AzureClusterOptions,
    ),
    (
        "training_job",
        "azureml",
        "training_job:AzureMlTrainingJob",
        "Azure ML command job named by its content hash (the PUT submits the run)",
        AzureJobOptions,
    ),
    (
        "pipeline",
        "azureml",
        "pipeline:AzureMlPipeline",
        "component versions per step, package in Blob storage, pipeline job, schedule",
        AzurePipelineOptions,
    ),
    (
        "serving_endpoint",
        "online-endpoint",
        "serving_endpoint:ManagedOnlineEndpoint",
        "managed online endpoint + deployment of the gated version (no scale to zero)",
        AzureEndpointOptions,
    ),
)


def register(registry: Registry) -> None:
    """Declares the ``azure`` cloud and its default flavor of every kind."""
    registry.register_cloud(
        CloudInfo(
            name="azure",
            description="Microsoft Azure: Storage, Azure Machine Learning, ACR, Key Vault",
            gpus=AZURE_GPUS,
            sdk_module="pulumi_azure_native",
            extra="azure",
        )
    )
    for kind, name, implementation, description, options in _FLAVORS:
        registry.register_flavor(
            Flavor(
                cloud="azure",
                kind=kind,
                name=name,
                implementation=f"{_PACKAGE}.{implementation}",
                description=description,
                options=options,
                default=True,
                requires=_SDK,
                extra="azure",
            )
        )
