"""Registers the aws cloud and its flavors (imports no cloud SDK)."""

from __future__ import annotations

from pydantic import BaseModel

from mlops_infra.backends.aws.gpus import AWS_GPUS
from mlops_infra.backends.aws.options import (
    BatchClusterOptions,
    S3StoreOptions,
    SageMakerEndpointOptions,
    SageMakerJobOptions,
    SageMakerPipelineOptions,
    SageMakerTrackingOptions,
    SelfHostedTrackingOptions,
)
from mlops_infra.registry import CloudInfo, Flavor, Registry

__all__ = ["FLAVORS", "register"]

_PACKAGE = "mlops_infra.backends.aws"

FLAVORS: tuple[tuple[str, str, str, str, type[BaseModel] | None, bool], ...] = (
    (
        "foundation",
        "standard",
        "foundation:AwsFoundation",
        "KMS key, ECR repository; VPC when asked (create or adopt)",
        None,
        True,
    ),
    (
        "artifact_store",
        "s3",
        "artifact_store:S3ArtifactStore",
        "S3 bucket: public access blocked, SSE-KMS, versioned, lifecycle, TLS-only",
        S3StoreOptions,
        True,
    ),
    (
        "tracking_server",
        "sagemaker",
        "tracking_server:SageMakerMlflow",
        "SageMaker managed MLflow (tracking server or serverless app), IAM auth",
        SageMakerTrackingOptions,
        True,
    ),
    (
        "tracking_server",
        "self-hosted",
        "tracking_self_hosted:SelfHostedMlflow",
        "MLflow on ECS Fargate behind an internal ALB, RDS PostgreSQL, basic auth",
        SelfHostedTrackingOptions,
        False,
    ),
    (
        "training_cluster",
        "sagemaker",
        "training_cluster:SageMakerCompute",
        "SageMaker per-job compute: nothing runs (or costs) while idle; managed spot",
        None,
        True,
    ),
    (
        "training_cluster",
        "batch",
        "batch_cluster:BatchGpuPool",
        "standing AWS Batch GPU pool that scales to zero vCPUs",
        BatchClusterOptions,
        False,
    ),
    (
        "training_job",
        "sagemaker",
        "training_job:SageMakerTrainingJob",
        "sagemaker.TrainingJob named by its content hash, MLflow wired in",
        SageMakerJobOptions,
        True,
    ),
    (
        "training_job",
        "batch",
        "batch_job:BatchTrainingJob",
        "AWS Batch job definition per version on a batch pool (submitted outside Pulumi)",
        None,
        False,
    ),
    (
        "pipeline",
        "sagemaker",
        "pipeline:SageMakerPipeline",
        "SageMaker pipeline compiled from the DAG, versioned package in S3, scheduler",
        SageMakerPipelineOptions,
        True,
    ),
    (
        "serving_endpoint",
        "sagemaker",
        "serving_endpoint:SageMakerEndpoint",
        "gated SageMaker endpoint: MLflow image, blue/green canary, autoscaling",
        SageMakerEndpointOptions,
        True,
    ),
)
"""``(kind, flavor, module:Class, description, options, default)`` of every AWS flavor."""


def register(registry: Registry) -> None:
    """Declares the ``aws`` cloud and its flavors."""
    registry.register_cloud(
        CloudInfo(
            name="aws",
            description="Amazon Web Services: S3, SageMaker, ECR, IAM, KMS",
            gpus=AWS_GPUS,
            sdk_module="pulumi_aws",
            extra="aws",
        )
    )
    for kind, name, implementation, description, options, default in FLAVORS:
        registry.register_flavor(
            Flavor(
                cloud="aws",
                kind=kind,
                name=name,
                implementation=f"{_PACKAGE}.{implementation}",
                description=description,
                options=options,
                default=default,
                requires=("pulumi_aws",),
                extra="aws",
            )
        )
