"""The ``CreateTrainingJob`` request a job or a pipeline step sends, in the API's own shape.

A pipeline's ``Training`` step carries exactly this request as its ``Arguments``, and a
standalone job sends it itself (``training_run.py``), so both are built here, in the key
order the API reference lists (the pipeline definition is serialized in that order, so its
bytes do not depend on who builds it). Values may be Pulumi Outputs or the pipeline's
property references (``{"Get": ...}``); tests validate the resolved request against
botocore's model of the call.

API reference: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from mlops_infra.backends.aws._compute import SageMakerCompute
from mlops_infra.backends.aws._contract import ENTRYPOINT
from mlops_infra.backends.aws._scope import WorkloadNetwork

__all__ = ["Request", "s3_channel", "training_request"]

# Any: plain data mixed with Pulumi Outputs and SageMaker pipeline property references.
Request = dict[str, Any]
"""A ``CreateTrainingJob`` request (without ``TrainingJobName``)."""


def s3_channel(name: str, uri: object) -> Request:
    """An input channel copying every object under the ``s3://`` prefix ``uri`` to each node."""
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "InputMode": "File",
    }


def training_request(
    *,
    image: pulumi.Input[str],
    role_arn: pulumi.Input[str],
    compute: SageMakerCompute,
    volume_size_gib: int,
    kms_key: object,
    channels: Sequence[Request],
    output_path: object,
    checkpoint_uri: object,
    hyperparameters: Mapping[str, object],
    environment: Mapping[str, pulumi.Input[str]],
    network: WorkloadNetwork | None,
) -> Request:
    """Returns the request running the step entry point on ``compute``.

    Args:
        image: Container image.
        role_arn: Execution role of the job.
        compute: Instance type, count, spot and timeouts.
        volume_size_gib: EBS volume per instance.
        kms_key: Key for outputs and (where the instance type takes one) volumes.
        channels: Input channels (see ``s3_channel``).
        output_path: ``s3://`` prefix the model archive is written under.
        checkpoint_uri: Where spot jobs checkpoint (used only with spot).
        hyperparameters: Settings and lineage the entry point reads.
        environment: Environment of the container.
        network: Private network to run in, if any.
    """
    request: Request = {
        "AlgorithmSpecification": {
            "TrainingImage": image,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": list(ENTRYPOINT),
        },
        "RoleArn": role_arn,
        "ResourceConfig": {
            "InstanceType": compute.instance_type,
            "InstanceCount": compute.count,
            "VolumeSizeInGB": volume_size_gib,
            # Types with local NVMe storage are hardware-encrypted; SageMaker refuses a key.
            **({"VolumeKmsKeyId": kms_key} if compute.volume_kms else {}),
        },
        "InputDataConfig": list(channels),
        "OutputDataConfig": {"S3OutputPath": output_path, "KmsKeyId": kms_key},
        "StoppingCondition": {
            "MaxRuntimeInSeconds": compute.max_runtime_s,
            **({"MaxWaitTimeInSeconds": compute.max_wait_s} if compute.max_wait_s else {}),
        },
        "HyperParameters": dict(hyperparameters),
        "Environment": dict(environment),
        "EnableManagedSpotTraining": compute.spot,
        # Nodes of a distributed job exchange gradients: encrypt that traffic.
        "EnableInterContainerTrafficEncryption": compute.count > 1,
        "EnableNetworkIsolation": False,  # the run logs to the tracking server
    }
    if compute.spot:
        request["CheckpointConfig"] = {"S3Uri": checkpoint_uri}
    if network is not None:
        request["VpcConfig"] = {
            "Subnets": network.subnet_ids,
            "SecurityGroupIds": network.security_group_ids,
        }
    return request
