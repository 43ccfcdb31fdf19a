"""Registers the aws cloud and its flavors (imports no cloud SDK)."""

from __future__ import annotations

from mlops_infra.backends.aws.gpus import AWS_GPUS
from mlops_infra.registry import CloudInfo, Registry

__all__ = ["register"]


def register(registry: Registry) -> None:
    """Declares the ``aws`` cloud."""
    registry.register_cloud(
        CloudInfo(
            name="aws",
            description="Amazon Web Services: S3, SageMaker, ECR, IAM, KMS",
            gpus=AWS_GPUS,
            sdk_module="pulumi_aws",
            extra="aws",
        )
    )
