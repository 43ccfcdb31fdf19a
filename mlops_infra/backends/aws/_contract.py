"""The contract between the AWS backend and the step entry point running in the container.

Pure constants and helpers (no cloud SDK): the backend writes these hyperparameters,
channels and environment variables into training jobs and pipeline steps; the entry point
(:mod:`mlops_infra.backends.aws.container_entry`) reads them.
"""

from __future__ import annotations

__all__ = [
    "CODE_CHANNEL",
    "ENTRYPOINT",
    "HP_COMPONENT",
    "HP_DATA",
    "HP_EXECUTION",
    "HP_INPUTS",
    "HP_MODEL",
    "HP_PARAMS",
    "HP_PIPELINE",
    "HP_STEP",
    "HP_TAGS",
    "HP_VERSION",
    "HYPERPARAMETERS_ENV",
    "PACKAGE_ENV",
    "PASSWORD_SECRET_ENV",
    "RUNTIME_REQUIREMENTS",
    "data_channel",
    "step_channel",
]

ENTRYPOINT = ["python", "-m", "mlops_infra.backends.aws.container_entry"]

RUNTIME_REQUIREMENTS = ("sagemaker-mlflow>=0.5",)
"""What the runtime image adds on AWS: ARN tracking URIs of SageMaker MLflow (SigV4)."""
"""Container entry point of every training job and pipeline step (the image must have
``mlops-infra``, ``mlflow``, ``boto3`` and, for SageMaker MLflow, ``sagemaker-mlflow``)."""

CODE_CHANNEL = "code"
"""Input channel holding the version's component files (``/opt/ml/input/data/code``)."""

HP_COMPONENT = "mlops_component"
HP_STEP = "mlops_step"
HP_PIPELINE = "mlops_pipeline"
HP_VERSION = "mlops_version"
HP_MODEL = "mlops_model_name"
HP_EXECUTION = "mlops_execution"
HP_PARAMS = "mlops_params"
HP_DATA = "mlops_data"
HP_INPUTS = "mlops_inputs"
HP_TAGS = "mlops_tags"
HP_FINAL = "mlops_final"
"""``"true"`` on a step nothing else depends on: it ends the pipeline's MLflow run
(FINISHED), as a failing step does (FAILED)."""

PACKAGE_ENV = "MLOPS_PACKAGE_URI"
"""Batch jobs: ``s3://`` URI of the version's package (the entry point stages it itself)."""

HYPERPARAMETERS_ENV = "MLOPS_HYPERPARAMETERS"
"""Batch jobs: the hyperparameters as JSON (SageMaker writes them to a file instead)."""

PASSWORD_SECRET_ENV = "MLOPS_TRACKING_PASSWORD_SECRET"  # noqa: S105 - a variable name
"""Secrets Manager ARN of the tracking password (basic-auth servers only)."""


def data_channel(name: str) -> str:
    """Channel of data reference ``name`` (channel names allow letters, digits, ``.-_``)."""
    return f"data-{name}"


def step_channel(step: str) -> str:
    """Channel of the outputs of upstream step ``step``."""
    return f"step-{step}"
