"""Registers the aws cloud and its flavors (imports no cloud SDK)."""

from __future__ import annotations

from mlops_infra.backends.aws.gpus import AWS_GPUS
from mlops_infra.registry import CloudInfo, Flavor, FlavorRegistry

__all__ = ["CLOUD", "FLAVORS", "register"]

_CLOUD = "aws"
_PACKAGE = "mlops_infra.backends.aws"
_SDK = ("pulumi_aws",)

CLOUD = CloudInfo(
    name=_CLOUD,
    description="Amazon Web Services: S3, SageMaker, ECR, IAM, KMS",
    gpus=AWS_GPUS,
    sdk_module="pulumi_aws",
    extra="aws",
    policies=(f"{_PACKAGE}.policies:RULES",),
    plan_rules=f"{_PACKAGE}.plan:PLAN_RULES",
    mocks=f"{_PACKAGE}.testing:AwsMocks",
    rehearsal=f"{_PACKAGE}.rehearse:SageMakerRehearsal",
)
"""What mlops-infra knows of aws: everything cloud-specific is reached from here, lazily."""

FLAVORS: tuple[Flavor, ...] = (
    Flavor(
        cloud=_CLOUD,
        kind="foundation",
        name="standard",
        implementation=f"{_PACKAGE}.foundation:AwsFoundation",
        description="KMS key, ECR repository; VPC when asked (create or adopt)",
        default=True,
        requires=_SDK,
        extra="aws",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="artifact_store",
        name="s3",
        implementation=f"{_PACKAGE}.artifact_store:S3ArtifactStore",
        description="S3 bucket: public access blocked, SSE-KMS, versioned, lifecycle, TLS-only",
        options=f"{_PACKAGE}.options:S3StoreOptions",
        default=True,
        requires=_SDK,
        extra="aws",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="tracking_server",
        name="sagemaker",
        implementation=f"{_PACKAGE}.tracking_server:SageMakerMlflow",
        description="SageMaker managed MLflow (tracking server or serverless app), IAM auth",
        options=f"{_PACKAGE}.options:SageMakerTrackingOptions",
        default=True,
        requires=_SDK,
        extra="aws",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="tracking_server",
        name="self-hosted",
        implementation=f"{_PACKAGE}.tracking_self_hosted:SelfHostedMlflow",
        description="MLflow on ECS Fargate behind an internal ALB, RDS PostgreSQL, basic auth",
        options=f"{_PACKAGE}.options:SelfHostedTrackingOptions",
        requires=_SDK,
        extra="aws",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="training_cluster",
        name="sagemaker",
        implementation=f"{_PACKAGE}.training_cluster:SageMakerCompute",
        description="SageMaker per-job compute: nothing runs (or costs) while idle; managed spot",
        default=True,
        requires=_SDK,
        extra="aws",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="training_cluster",
        name="batch",
        implementation=f"{_PACKAGE}.batch_cluster:BatchGpuPool",
        description="standing AWS Batch GPU pool that scales to zero vCPUs",
        options=f"{_PACKAGE}.options:BatchClusterOptions",
        requires=_SDK,
        extra="aws",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="training_job",
        name="sagemaker",
        implementation=f"{_PACKAGE}.training_job:SageMakerTrainingJob",
        description="sagemaker.TrainingJob named by its content hash, MLflow wired in",
        options=f"{_PACKAGE}.options:SageMakerJobOptions",
        default=True,
        requires=_SDK,
        extra="aws",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="training_job",
        name="batch",
        implementation=f"{_PACKAGE}.batch_job:BatchTrainingJob",
        description=(
            "AWS Batch job definition per version on a batch pool (submitted outside Pulumi)"
        ),
        requires=_SDK,
        extra="aws",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="pipeline",
        name="sagemaker",
        implementation=f"{_PACKAGE}.pipeline:SageMakerPipeline",
        description="SageMaker pipeline compiled from the DAG, versioned package in S3, scheduler",
        options=f"{_PACKAGE}.options:SageMakerPipelineOptions",
        default=True,
        requires=_SDK,
        extra="aws",
    ),
    Flavor(
        cloud=_CLOUD,
        kind="serving_endpoint",
        name="sagemaker",
        implementation=f"{_PACKAGE}.serving_endpoint:SageMakerEndpoint",
        description="gated SageMaker endpoint: MLflow image, blue/green canary, autoscaling",
        options=f"{_PACKAGE}.options:SageMakerEndpointOptions",
        default=True,
        requires=_SDK,
        extra="aws",
    ),
)
"""Every aws flavor."""


def register(registry: FlavorRegistry) -> None:
    """Declares the ``aws`` cloud and its flavors."""
    registry.register_cloud(CLOUD)
    for flavor in FLAVORS:
        registry.register_flavor(flavor)
