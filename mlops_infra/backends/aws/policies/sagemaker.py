"""SageMaker: encrypted training and endpoints, isolated models, private networking.

Instances with local NVMe storage (g4dn, g5, g6, p4d, p5, ...) cannot take a volume KMS
key: their instance storage is always encrypted with a hardware key. The encryption
checks accept that instead of demanding a key SageMaker would reject.

A standalone training job is a ``SageMakerTrainingRun`` whose ``request`` input is the
``CreateTrainingJob`` request, in the API's own field names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mlops_infra.plan.model import PlannedResource
from mlops_infra.policies._helpers import as_list, as_mapping, get, truthy
from mlops_infra.policies.context import PolicyContext
from mlops_infra.policies.model import Outcome, Rule, compliant, not_applicable, violation

__all__ = ["RULES", "has_instance_storage"]

_TRAINING = "pulumi-python:dynamic/mlops:SageMakerTrainingRun"
_MODEL = "aws:sagemaker/model:Model"
_ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
_NVME_FAMILIES = re.compile(
    r"^ml\.(g4dn|g5|g6|g6e|p3dn|p4d|p4de|p5|p5e|p5en|trn1|trn1n|m5d|c5d|r5d|m6id|c6id|r6id)\."
)


def has_instance_storage(instance_type: object) -> bool:
    """Whether a SageMaker instance type has local NVMe storage (no volume KMS key)."""
    return isinstance(instance_type, str) and bool(_NVME_FAMILIES.match(instance_type))


def _endpoint_encrypted(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if resource.inputs.get("kmsKeyArn"):
        return compliant()
    variants = [as_mapping(v) for v in as_list(resource.inputs.get("productionVariants"))]
    ebs = [
        str(v.get("instanceType"))
        for v in variants
        if not v.get("serverlessConfig") and not has_instance_storage(v.get("instanceType"))
    ]
    if ebs:
        return violation(f"no kms_key_arn for the storage of {', '.join(ebs)}")
    return compliant()


def _isolated(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    if not truthy(resource.inputs.get("enableNetworkIsolation")):
        return violation("the model container can reach the network; set enable_network_isolation")
    return compliant()


def _request(resource: PlannedResource) -> Mapping[str, Any]:
    return as_mapping(resource.inputs.get("request"))


def _training_encrypted(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    request = _request(resource)
    missing: list[str] = []
    if not get(request, "OutputDataConfig.KmsKeyId"):
        missing.append("OutputDataConfig.KmsKeyId")
    instance = get(request, "ResourceConfig.InstanceType")
    if not get(request, "ResourceConfig.VolumeKmsKeyId") and not has_instance_storage(instance):
        missing.append("ResourceConfig.VolumeKmsKeyId")
    if missing:
        return violation(f"not encrypted with the stack's key: {', '.join(missing)}")
    return compliant()


def _inter_node(resource: PlannedResource, context: PolicyContext) -> Outcome:
    del context
    request = _request(resource)
    count = get(request, "ResourceConfig.InstanceCount")
    if not isinstance(count, int) or count < 2:
        return not_applicable("runs on one node")
    if not truthy(request.get("EnableInterContainerTrafficEncryption")):
        return violation(f"{count} nodes exchange data unencrypted; set inter-container encryption")
    return compliant()


def _in_vpc(resource: PlannedResource, context: PolicyContext) -> Outcome:
    if context.facts.network == "default":
        return not_applicable("the stack uses the cloud's default network")
    subnets = (
        get(_request(resource), "VpcConfig.Subnets")
        if resource.type == _TRAINING
        else get(resource.inputs, "vpcConfig.subnets")
    )
    if not subnets:
        return violation("runs outside the stack's private network; set vpc_config")
    return compliant()


def _types(*tokens: str) -> tuple[str, ...]:
    return tuple(tokens)


RULES = (
    Rule(
        id="MLOPS-AWS-SAGEMAKER-001",
        title="SageMaker endpoint storage is encrypted with a KMS key",
        pack="aws",
        types=_types(_ENDPOINT_CONFIG),
        check=_endpoint_encrypted,
        scanners=("CKV_AWS_98",),
        remediation="set kms_key_arn on the endpoint configuration",
    ),
    Rule(
        id="MLOPS-AWS-SAGEMAKER-002",
        title="SageMaker models run with network isolation",
        pack="aws",
        types=_types(_MODEL),
        check=_isolated,
        scanners=("CKV_AWS_370",),
        severity="medium",
        remediation="enable_network_isolation=True (the serving image needs no network)",
    ),
    Rule(
        id="MLOPS-AWS-SAGEMAKER-003",
        title="SageMaker training output and volumes are encrypted with a KMS key",
        pack="aws",
        types=_types(_TRAINING),
        check=_training_encrypted,
        remediation="set OutputDataConfig.KmsKeyId and ResourceConfig.VolumeKmsKeyId",
    ),
    Rule(
        id="MLOPS-AWS-SAGEMAKER-004",
        title="Distributed SageMaker training encrypts traffic between nodes",
        pack="aws",
        types=_types(_TRAINING),
        check=_inter_node,
        severity="medium",
        remediation="EnableInterContainerTrafficEncryption: true",
    ),
    Rule(
        id="MLOPS-AWS-SAGEMAKER-005",
        title="SageMaker training and models run in the stack's private network",
        pack="aws",
        types=_types(_TRAINING, _MODEL),
        check=_in_vpc,
        remediation="set vpc_config with the private subnets and a security group",
    ),
)
