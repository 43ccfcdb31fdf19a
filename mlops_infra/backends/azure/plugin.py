"""Registers the azure cloud and its flavors (imports no cloud SDK)."""

from __future__ import annotations

from mlops_infra.backends.azure.gpus import AZURE_GPUS
from mlops_infra.registry import CloudInfo, Registry

__all__ = ["register"]


def register(registry: Registry) -> None:
    """Declares the ``azure`` cloud."""
    registry.register_cloud(
        CloudInfo(
            name="azure",
            description="Microsoft Azure: Storage, Azure Machine Learning, ACR, Key Vault",
            gpus=AZURE_GPUS,
            sdk_module="pulumi_azure_native",
            extra="azure",
        )
    )
