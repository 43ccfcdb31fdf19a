"""Registers the azure cloud and its flavors (imports no cloud SDK)."""

from __future__ import annotations

from mlops_infra.backends.azure.gpus import AZURE_GPUS
from mlops_infra.registry import CloudInfo, Flavor, FlavorRegistry

__all__ = ["CLOUD", "FLAVORS", "register"]

_CLOUD = "azure"
_PACKAGE = "mlops_infra.backends.azure"
_SDK = ("pulumi_azure_native",)

CLOUD = CloudInfo(
    name=_CLOUD,
    description="Microsoft Azure: Storage, Azure Machine Learning, ACR, Key Vault",
    gpus=AZURE_GPUS,
    sdk_module="pulumi_azure_native",
    extra="azure",
    policies=(f"{_PACKAGE}.policies:RULES",),
    plan_rules=f"{_PACKAGE}.plan:PLAN_RULES",
    mocks=f"{_PACKAGE}.testing:AzureMocks",
    rehearsal=f"{_PACKAGE}.rehearse:AzureMlRehearsal",
)
"""What mlops-infra knows of azure: everything cloud-specific is reached from here, lazily."""

FLAVORS: tuple[Flavor, ...] = (
    Flavor(
        cloud=_CLOUD,
        kind="foundation",
        name="default",
        implementation=f"{_PACKAGE}.foundation:AzureFoundation",
        description="resource group, optional virtual network, ACR, Key Vault (RBAC) and a CMK key",
        options=f"{_PACKAGE}.options:AzureFoundationOptions",
        default=True,
        requires=_SDK,
        extra="azure",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="artifact_store",
        name="blob",
        implementation=f"{_PACKAGE}.artifact_store:BlobArtifactStore",
        description=(
            "StorageV2 account + container: Entra ID only, TLS 1.2, versioning, soft delete"
        ),
        options=f"{_PACKAGE}.options:AzureStoreOptions",
        default=True,
        requires=_SDK,
        extra="azure",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="tracking_server",
        name="azureml",
        implementation=f"{_PACKAGE}.tracking_server:AzureMlTrackingServer",
        description=(
            "Azure Machine Learning workspace: its MLflow endpoint and model registry (Entra ID)"
        ),
        options=f"{_PACKAGE}.options:AzureTrackingOptions",
        default=True,
        requires=_SDK,
        extra="azure",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="training_cluster",
        name="amlcompute",
        implementation=f"{_PACKAGE}.training_cluster:AmlComputeCluster",
        description="AmlCompute cluster: 0 nodes when idle, low priority for spot, no public IPs",
        options=f"{_PACKAGE}.options:AzureClusterOptions",
        default=True,
        requires=_SDK,
        extra="azure",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="training_job",
        name="azureml",
        implementation=f"{_PACKAGE}.training_job:AzureMlTrainingJob",
        description="Azure ML command job named by its content hash (the PUT submits the run)",
        options=f"{_PACKAGE}.options:AzureJobOptions",
        default=True,
        requires=_SDK,
        extra="azure",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="pipeline",
        name="azureml",
        implementation=f"{_PACKAGE}.pipeline:AzureMlPipeline",
        description="component versions per step, package in Blob storage, pipeline job, schedule",
        options=f"{_PACKAGE}.options:AzurePipelineOptions",
        default=True,
        requires=_SDK,
        extra="azure",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="serving_endpoint",
        name="online-endpoint",
        implementation=f"{_PACKAGE}.serving_endpoint:ManagedOnlineEndpoint",
        description="managed online endpoint + deployment of the gated version (no scale to zero)",
        options=f"{_PACKAGE}.options:AzureEndpointOptions",
        default=True,
        requires=_SDK,
        extra="azure",
    ),
)
"""Every azure flavor."""


def register(registry: FlavorRegistry) -> None:
    """Declares the ``azure`` cloud and its flavors."""
    registry.register_cloud(CLOUD)
    for flavor in FLAVORS:
        registry.register_flavor(flavor)
