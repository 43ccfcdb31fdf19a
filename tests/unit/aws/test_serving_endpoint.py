"""Serving endpoint: gate → model → config → blue/green endpoint → autoscaling."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.backends.aws.serving_endpoint import model_data_uri
from mlops_infra.backends.aws.testing import AwsMocks, served
from mlops_infra.errors import BackendError

from .helpers import PIPELINE, children, inputs, one, run_aws

ENDPOINT = "mlops:index:ServingEndpoint"
GATE = "pulumi-python:dynamic/mlops:PromotionDecision"


def _spec(environment: str = "dev", **endpoint: Any) -> dict[str, Any]:
    return {
        "environment": environment,
        "clusters": [{"name": "gpu", "gpu": "l4"}],
        "pipelines": [PIPELINE],
        "endpoints": [
            {
                "name": "diagnosis",
                "model": "diagnosis",
                "gate": {"conditions": [{"metric": "accuracy", "threshold": 0.9}]},
                **endpoint,
            }
        ],
    }


def test_children() -> None:
    run = run_aws(_spec())
    assert children(run, ENDPOINT, "mlops-endpoint-diagnosis") == {
        (GATE, "mlops-endpoint-diagnosis-gate"),
        ("pulumi-python:dynamic/mlops:ModelAlias", "mlops-endpoint-diagnosis-alias"),
        ("aws:iam/role:Role", "mlops-endpoint-diagnosis-role"),
        ("aws:iam/rolePolicy:RolePolicy", "mlops-endpoint-diagnosis-role-policy"),
        ("aws:sagemaker/model:Model", "mlops-endpoint-diagnosis-model"),
        (
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
            "mlops-endpoint-diagnosis-config",
        ),
        ("aws:sagemaker/endpoint:Endpoint", "mlops-endpoint-diagnosis"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "mlops-endpoint-diagnosis-errors"),
        ("aws:appautoscaling/target:Target", "mlops-endpoint-diagnosis-scaling"),
        ("aws:appautoscaling/policy:Policy", "mlops-endpoint-diagnosis-scaling-policy"),
    }


def test_model_serves_the_version_the_gate_allows() -> None:
    mocks = AwsMocks(
        outputs={GATE: served("7", "s3://dev-mlops-store-abc123/mlflow/1/models/m-1/artifacts")}
    )
    run = run_aws(_spec(), mocks=mocks)
    gate = inputs(one(run, GATE, "mlops-endpoint-diagnosis-gate"))
    assert gate["gate"]["conditions"][0]["metric"] == "accuracy"
    assert (gate["model"], gate["alias"], gate["environment"]) == ("diagnosis", "champion", "dev")
    model = inputs(one(run, "aws:sagemaker/model:Model", "mlops-endpoint-diagnosis-model"))
    container = model["primaryContainer"]
    assert (
        container["image"]
        == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/dev-mlops:mlflow-serving"
    )
    assert container["modelDataSource"]["s3DataSources"] == [
        {
            "s3Uri": "s3://dev-mlops-store-abc123/mlflow/1/models/m-1/artifacts/",
            "s3DataType": "S3Prefix",
            "compressionType": "None",
        }
    ]
    assert container["environment"]["MLOPS_MODEL_VERSION"] == "7"
    assert model["enableNetworkIsolation"] is True
    assert run.outputs["endpoints"]["diagnosis"]["model_version"] == "7"


def test_nothing_is_deployed_when_no_version_passes() -> None:
    mocks = AwsMocks(outputs={GATE: served(None, None)})
    with pytest.raises(BackendError, match="lets no model version through yet"):
        run_aws(_spec(), mocks=mocks)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("s3://b/mlflow/1/x/artifacts/model", "s3://b/mlflow/1/x/artifacts/model/"),
        ("mlflow-artifacts:/1/x/artifacts/model", "s3://b/mlflow/1/x/artifacts/model/"),
    ],
)
def test_model_data_uri(source: str, expected: str) -> None:
    assert model_data_uri(source, "s3://b/mlflow/", "e") == expected


def test_canary_blue_green_kms_and_autoscaling_in_prod() -> None:
    run = run_aws(
        _spec(
            "prod",
            gpu="l4",
            min_replicas=2,
            max_replicas=6,
            canary_percent=10,
            target_concurrency=20,
        )
    )
    config = inputs(
        one(
            run,
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
            "mlops-endpoint-diagnosis-config",
        )
    )
    (variant,) = config["productionVariants"]
    assert variant["variantName"] == "primary"
    assert variant["instanceType"] == "ml.g6.xlarge"
    assert (variant["initialInstanceCount"], variant["initialVariantWeight"]) == (2, 1.0)
    # g6 has local NVMe storage, encrypted by the instance: SageMaker rejects a key there.
    assert "kmsKeyArn" not in config
    endpoint = inputs(one(run, "aws:sagemaker/endpoint:Endpoint", "mlops-endpoint-diagnosis"))
    assert endpoint["name"] == "prod-diagnosis"
    policy = endpoint["deploymentConfig"]["blueGreenUpdatePolicy"]
    assert policy["trafficRoutingConfiguration"] == {
        "type": "CANARY",
        "waitIntervalInSeconds": 600,
        "canarySize": {"type": "CAPACITY_PERCENT", "value": 10},
    }
    assert endpoint["deploymentConfig"]["autoRollbackConfiguration"] == {
        "alarms": [{"alarmName": "prod-diagnosis-5xx"}]
    }
    alarm = inputs(
        one(run, "aws:cloudwatch/metricAlarm:MetricAlarm", "mlops-endpoint-diagnosis-errors")
    )
    assert alarm["dimensions"] == {"EndpointName": "prod-diagnosis", "VariantName": "primary"}
    target = inputs(
        one(run, "aws:appautoscaling/target:Target", "mlops-endpoint-diagnosis-scaling")
    )
    assert target["resourceId"] == "endpoint/prod-diagnosis/variant/primary"
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 6)
    scaling = inputs(
        one(run, "aws:appautoscaling/policy:Policy", "mlops-endpoint-diagnosis-scaling-policy")
    )
    tracking = scaling["targetTrackingScalingPolicyConfiguration"]
    assert tracking["targetValue"] == 20
    assert tracking["predefinedMetricSpecification"] == {
        "predefinedMetricType": "SageMakerVariantConcurrentRequestsPerModelHighResolution"
    }


def test_cpu_endpoint_volume_is_encrypted_with_the_stack_key() -> None:
    run = run_aws(_spec())
    config = inputs(
        one(
            run,
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
            "mlops-endpoint-diagnosis-config",
        )
    )
    assert config["productionVariants"][0]["instanceType"] == "ml.m5.large"
    assert config["kmsKeyArn"] == "arn:aws:kms:eu-west-1:123456789012:key/mlops-key"
    endpoint = inputs(one(run, "aws:sagemaker/endpoint:Endpoint", "mlops-endpoint-diagnosis"))
    assert endpoint["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"][
        "type"
    ] == ("ALL_AT_ONCE")


def test_endpoint_in_the_private_network_and_isolation_opt_out() -> None:
    spec = _spec(options={"network_isolation": False})
    spec["network"] = {"create": True}
    run = run_aws(spec)
    model = inputs(one(run, "aws:sagemaker/model:Model", "mlops-endpoint-diagnosis-model"))
    assert model["enableNetworkIsolation"] is False
    assert model["vpcConfig"] == {
        "subnets": ["mlops-private-0-id", "mlops-private-1-id"],
        "securityGroupIds": ["mlops-workloads-id"],
    }
