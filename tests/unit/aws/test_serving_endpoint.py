"""Serving endpoint: gate → model → config → blue/green endpoint → autoscaling."""

from __future__ import annotations

import importlib.metadata
import re
from typing import Any

import pytest

from mlops_infra.backends.aws.mlflow_auth import CLIENT_AUTH
from mlops_infra.backends.aws.serving_endpoint import model_data_uri
from mlops_infra.backends.aws.serving_image import BUILDSPEC, serving_tag
from mlops_infra.backends.aws.testing import AwsMocks, served
from mlops_infra.errors import BackendError

from .helpers import PIPELINE, children, run_aws

ENDPOINT = "mlops:index:ServingEndpoint"
GATE = "pulumi-python:dynamic/mlops:PromotionDecision"
DEPLOYMENT = "pulumi-python:dynamic/mlops:SageMakerDeployment"
IMAGE = "pulumi-python:dynamic/mlops:ImageBuild"


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
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "mlops-endpoint-diagnosis-errors"),
        (DEPLOYMENT, "mlops-endpoint-diagnosis-deployment"),
        ("aws:iam/role:Role", "mlops-endpoint-diagnosis-builder-role"),
        ("aws:iam/rolePolicy:RolePolicy", "mlops-endpoint-diagnosis-builder-role-policy"),
        ("aws:codebuild/project:Project", "mlops-endpoint-diagnosis-builder"),
        (IMAGE, "mlops-endpoint-diagnosis-image"),
    }


def test_serving_image_is_built_with_the_model_inside() -> None:
    source = "s3://dev-mlops-store-abc123/mlflow/1/models/m-1/artifacts"
    run = run_aws(_spec(), mocks=AwsMocks(outputs={GATE: served("7", source)}))
    build = run.inputs(IMAGE, "mlops-endpoint-diagnosis-image")
    tag = serving_tag(source + "/", importlib.metadata.version("mlflow"))
    assert tag is not None
    assert re.fullmatch(r"serving-[0-9a-f]{16}", tag)
    assert build["tag"] == tag
    assert build["environment"]["MODEL_URI"] == source + "/"
    assert build["project_name"] == "dev-diagnosis-images"
    assert build["repository"] == "dev-mlops"
    deployment = run.inputs(DEPLOYMENT, "mlops-endpoint-diagnosis-deployment")
    assert deployment["image"] == f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/dev-mlops:{tag}"
    project = run.inputs("aws:codebuild/project:Project", "mlops-endpoint-diagnosis-builder")
    assert project["environment"]["privilegedMode"] is True
    assert project["source"] == {"type": "NO_SOURCE", "buildspec": BUILDSPEC}
    assert "--model-uri" in BUILDSPEC  # dependencies installed at build time, not at start


def test_nothing_is_built_while_pending() -> None:
    run = run_aws(_spec(), mocks=AwsMocks(outputs={GATE: served(None, None)}))
    assert run.inputs(IMAGE, "mlops-endpoint-diagnosis-image").get("tag") is None


def test_own_image_builds_nothing() -> None:
    run = run_aws(_spec(options={"image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/own:1"}))
    assert not [r for r in run.registrations if r.type == IMAGE and "endpoint" in r.name]
    deployment = run.inputs(DEPLOYMENT, "mlops-endpoint-diagnosis-deployment")
    assert deployment["image"] == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/own:1"


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_pending_when_no_version_passed(environment: str) -> None:
    """A fresh stack (empty registry): up raises nothing, the endpoint is pending."""
    mocks = AwsMocks(outputs={GATE: served(None, None)})
    run = run_aws(_spec(environment), mocks=mocks)
    deployment = run.inputs(DEPLOYMENT, "mlops-endpoint-diagnosis-deployment")
    assert (deployment.get("version"), deployment.get("source")) == (None, None)
    endpoint = run.outputs["endpoints"]["diagnosis"]
    assert (endpoint.get("url"), endpoint.get("model_version")) == (None, None)
    assert endpoint["decision"]["reasons"] == ["mocked"]


def test_deployment_serves_the_version_the_gate_allows() -> None:
    mocks = AwsMocks(
        outputs={GATE: served("7", "s3://dev-mlops-store-abc123/mlflow/1/models/m-1/artifacts")}
    )
    run = run_aws(_spec(), mocks=mocks)
    gate = run.inputs(GATE, "mlops-endpoint-diagnosis-gate")
    assert gate["gate"]["conditions"][0]["metric"] == "accuracy"
    assert (gate["model"], gate["alias"], gate["environment"]) == ("diagnosis", "champion", "dev")
    deployment = run.inputs(DEPLOYMENT, "mlops-endpoint-diagnosis-deployment")
    assert deployment["image"].startswith(
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/dev-mlops:serving-"
    )
    assert deployment["version"] == "7"
    assert deployment["source"] == "s3://dev-mlops-store-abc123/mlflow/1/models/m-1/artifacts/"
    assert deployment["environment"]["MLOPS_MODEL_VERSION"] == "7"
    assert deployment["network_isolation"] is True
    assert (deployment["endpoint_name"], deployment["region"]) == ("dev-diagnosis", "eu-west-1")
    assert deployment["role_arn"].startswith("arn:aws:iam::123456789012:role/")
    endpoint = run.outputs["endpoints"]["diagnosis"]
    assert endpoint["model_version"] == "7"
    assert endpoint["url"] == (
        "https://runtime.sagemaker.eu-west-1.amazonaws.com/endpoints/dev-diagnosis/invocations"
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("s3://b/mlflow/1/x/artifacts/model", "s3://b/mlflow/1/x/artifacts/model/"),
        ("mlflow-artifacts:/1/x/artifacts/model", "s3://b/mlflow/1/x/artifacts/model/"),
        (None, None),
    ],
)
def test_model_data_uri(source: str | None, expected: str | None) -> None:
    assert model_data_uri(source, "s3://b/mlflow/", "e") == expected


def test_model_data_outside_s3_is_refused() -> None:
    with pytest.raises(BackendError, match=r"e: model artifacts at 'gs://b/m' are not in S3"):
        model_data_uri("gs://b/m", "s3://b/mlflow/", "e")


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
    deployment = run.inputs(DEPLOYMENT, "mlops-endpoint-diagnosis-deployment")
    assert deployment["instance_type"] == "ml.g6.xlarge"
    assert deployment["initial_count"] == 2
    # g6 has local NVMe storage, encrypted by the instance: SageMaker rejects a key there.
    assert "kms_key" not in deployment
    assert deployment["endpoint_name"] == "prod-diagnosis"
    assert deployment["deployment_config"] == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "WaitIntervalInSeconds": 600,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
            },
            "TerminationWaitInSeconds": 300,
            "MaximumExecutionTimeoutInSeconds": 3600,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "prod-diagnosis-5xx"}]},
    }
    alarm = run.inputs("aws:cloudwatch/metricAlarm:MetricAlarm", "mlops-endpoint-diagnosis-errors")
    assert alarm["dimensions"] == {"EndpointName": "prod-diagnosis", "VariantName": "primary"}
    assert deployment["scaling"] == {
        "min": 2,
        "max": 6,
        "target_value": 20.0,
        "metric": "SageMakerVariantConcurrentRequestsPerModelHighResolution",
    }


def test_cpu_endpoint_volume_is_encrypted_with_the_stack_key() -> None:
    run = run_aws(_spec())
    deployment = run.inputs(DEPLOYMENT, "mlops-endpoint-diagnosis-deployment")
    assert deployment["instance_type"] == "ml.m5.large"
    assert deployment["kms_key"] == "arn:aws:kms:eu-west-1:123456789012:key/mlops-key"
    routing = deployment["deployment_config"]["BlueGreenUpdatePolicy"]
    assert routing["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"


def test_endpoint_in_the_private_network_and_isolation_opt_out() -> None:
    spec = _spec(options={"network_isolation": False})
    spec["network"] = {"create": True}
    run = run_aws(spec)
    deployment = run.inputs(DEPLOYMENT, "mlops-endpoint-diagnosis-deployment")
    assert deployment["network_isolation"] is False
    assert deployment["vpc"] == {
        "Subnets": ["mlops-private-0-id", "mlops-private-1-id"],
        "SecurityGroupIds": ["mlops-workloads-id"],
    }


def test_alias_follows_what_the_endpoint_confirms() -> None:
    """Issue 11.4: after a rolled-back deployment the alias stays on the served version."""
    source = "s3://dev-mlops-store-abc123/mlflow/1/models/m-4/artifacts"
    mocks = AwsMocks(outputs={GATE: served("4", source), DEPLOYMENT: {"deployed_version": "3"}})
    run = run_aws(_spec(), mocks=mocks)
    alias = run.one("pulumi-python:dynamic/mlops:ModelAlias", "mlops-endpoint-diagnosis-alias")
    assert alias.plain_inputs()["version"] == "3"
    assert run.outputs["endpoints"]["diagnosis"]["model_version"] == "3"


def test_gate_and_alias_sign_with_the_aws_hook() -> None:
    run = run_aws(_spec())
    gate = run.inputs(GATE, "mlops-endpoint-diagnosis-gate")
    alias = run.inputs("pulumi-python:dynamic/mlops:ModelAlias", "mlops-endpoint-diagnosis-alias")
    assert gate["client_auth"] == alias["client_auth"] == CLIENT_AUTH


def test_the_scaling_metric_is_one_application_auto_scaling_knows() -> None:
    """13.11: the high-resolution concurrency metric is a predefined metric type of
    Application Auto Scaling (botocore's service model, `MetricType`)."""
    import botocore.session

    from mlops_infra.backends.aws.serving_endpoint import SCALING_METRIC

    model = botocore.session.get_session().get_service_model("application-autoscaling")
    assert SCALING_METRIC in model.shape_for("MetricType").enum
