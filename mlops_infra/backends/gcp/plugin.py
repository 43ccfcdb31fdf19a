"""Registers the gcp cloud and its flavors (imports no cloud SDK)."""

from __future__ import annotations

from mlops_infra.backends.gcp.gpus import GCP_GPUS
from mlops_infra.registry import CloudInfo, Registry

__all__ = ["register"]


def register(registry: Registry) -> None:
    """Declares the ``gcp`` cloud."""
    registry.register_cloud(
        CloudInfo(
            name="gcp",
            description="Google Cloud: Cloud Storage, Cloud Run, Vertex AI, Artifact Registry",
            gpus=GCP_GPUS,
            sdk_module="pulumi_gcp",
            extra="gcp",
        )
    )
