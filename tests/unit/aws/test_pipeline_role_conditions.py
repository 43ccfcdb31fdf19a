"""The pipeline role may start only the training jobs its own definition requests (13.4).

The role is every step's and passes itself, so its ``CreateTrainingJob`` grant carries
conditions on the request's context keys. The evaluator below follows the IAM User Guide
(reference_policies_elements_condition_operators.html: ``StringEquals``, ``ArnEquals``,
``ArnEqualsIfExists``, ``NumericLessThanEquals``, ``Null``; and
reference_policies_condition-single-vs-multi-valued-context-keys.html: ``ForAllValues``
matches when every request value is allowed, also when the key is absent) for the
operators the backend uses; context keys are those SageMaker documents for
CreateTrainingJob (Service Authorization Reference, list_amazonsagemaker.html).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .helpers import run_aws

_POLICY = "aws:iam/rolePolicy:RolePolicy"
_SPEC: dict[str, Any] = {
    "network": {"create": True},
    "clusters": [{"name": "gpu", "gpu": "l4"}],
    "pipelines": [{
        "name": "diagnosis",
        "data": {"breast_cancer": {"uri": "pkg://sklearn.datasets/data/breast_cancer.csv"}},
        "steps": [
            {"name": "featurize", "component": "diagnosis.featurize"},
            {"name": "train", "component": "diagnosis.train", "depends_on": ["featurize"],
             "cluster": "gpu", "timeout_s": 7200},
        ],
    }],
}  # fmt: skip


def _context(request: dict[str, Any]) -> dict[str, Any]:
    """The condition keys SageMaker sets for a CreateTrainingJob request."""
    resources = request["ResourceConfig"]
    context: dict[str, Any] = {
        "sagemaker:InstanceTypes": [resources["InstanceType"]],
        "sagemaker:MaxRuntimeInSeconds": request["StoppingCondition"]["MaxRuntimeInSeconds"],
        "sagemaker:OutputKmsKey": request["OutputDataConfig"].get("KmsKeyId"),
        "sagemaker:VolumeKmsKey": resources.get("VolumeKmsKeyId"),
    }
    vpc = request.get("VpcConfig")
    if vpc is not None:
        context["sagemaker:VpcSubnets"] = list(vpc["Subnets"])
        context["sagemaker:VpcSecurityGroupIds"] = list(vpc["SecurityGroupIds"])
    return {k: v for k, v in context.items() if v is not None}


def _matches(operator: str, key: str, allowed: Any, context: dict[str, Any]) -> bool:
    present = key in context
    value = context.get(key)
    match operator:
        case "ForAllValues:StringEquals":
            return all(v in allowed for v in value) if present else True
        case "NumericLessThanEquals":
            return present and float(value) <= float(allowed)
        case "ArnEquals":
            return present and value == allowed
        case "ArnEqualsIfExists":
            return not present or value == allowed
        case "Null":
            return (not present) == (allowed == "true")
        case _:
            raise AssertionError(f"operator {operator} not modelled")


def _allowed(conditions: dict[str, dict[str, Any]], request: dict[str, Any]) -> bool:
    context = _context(request)
    return all(
        _matches(operator, key, allowed, context)
        for operator, block in conditions.items()
        for key, allowed in block.items()
    )


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    run = run_aws(_SPEC)
    policy = run.inputs(_POLICY, "mlops-pipeline-diagnosis-role-policy", parse_json=True)["policy"]
    (grant,) = [s for s in policy["Statement"] if s.get("Sid") == "RunStepJobs"]
    assert grant["Action"] == ["sagemaker:CreateTrainingJob"]
    definition = run.inputs(
        "aws:sagemaker/pipeline:Pipeline", "mlops-pipeline-diagnosis", parse_json=True
    )
    requests = [step["Arguments"] for step in definition["pipelineDefinition"]["Steps"]]
    return grant["Condition"], requests


def test_every_step_of_the_definition_is_allowed(
    generated: tuple[dict[str, dict[str, Any]], list[dict[str, Any]]],
) -> None:
    conditions, requests = generated
    assert len(requests) == 2
    for request in requests:
        assert _allowed(conditions, request), request["ResourceConfig"]


def _no_vpc(request: dict[str, Any]) -> None:
    del request["VpcConfig"]


def _set(path: tuple[str, ...], value: Any) -> Any:
    def change(request: dict[str, Any]) -> None:
        target = request
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    "tamper",
    [
        _set(("ResourceConfig", "InstanceType"), "ml.p5.48xlarge"),
        _set(("StoppingCondition", "MaxRuntimeInSeconds"), 5 * 24 * 3600),
        _set(("OutputDataConfig", "KmsKeyId"), "arn:aws:kms:eu-west-1:999999999999:key/other"),
        _set(("ResourceConfig", "VolumeKmsKeyId"), "arn:aws:kms:eu-west-1:999999999999:key/x"),
        _set(("VpcConfig", "Subnets"), ["subnet-elsewhere"]),
        _set(("VpcConfig", "SecurityGroupIds"), ["sg-open"]),
        _no_vpc,
    ],
    ids=["instance-type", "runtime", "output-key", "volume-key", "subnet", "group", "no-vpc"],
)
def test_a_request_the_definition_does_not_make_is_denied(
    generated: tuple[dict[str, dict[str, Any]], list[dict[str, Any]]], tamper: Any
) -> None:
    conditions, requests = generated
    request = copy.deepcopy(requests[1])
    tamper(request)
    assert not _allowed(conditions, request)
