"""The SageMaker deployment resource's API calls, run against moto (+ the UpdateEndpoint fake)."""

from __future__ import annotations

import re
from typing import Any

import botocore.session
import pytest

from mlops_infra.backends.aws._api import AwsApi
from mlops_infra.backends.aws.endpoint_deployment import (
    deploy,
    read_deployment,
    resource_names,
    undeploy,
)

from .moto_fakes import REGION, EndpointUpdates, Requests, as_engine_sends, aws, sagemaker_backend

__all__ = ["aws"]

ENDPOINT = "prod-diagnosis"
ROLE = "arn:aws:iam::123456789012:role/prod-endpoint-role"


class Killed(BaseException):
    """The provider process dying (SIGKILL of ``pulumi up``) while it waits."""


def _props(version: str | None = "3", **changes: Any) -> dict[str, Any]:
    return as_engine_sends(
        {
            "endpoint_name": ENDPOINT,
            "region": REGION,
            "version": version,
            "source": f"s3://store/mlflow/1/models/m-{version}/artifacts/" if version else None,
            "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/prod-mlops:serving-abc",
            "role_arn": ROLE,
            "environment": {"MLOPS_MODEL": "diagnosis", "MLOPS_MODEL_VERSION": version or ""},
            "network_isolation": True,
            "vpc": None,
            "instance_type": "ml.m5.large",
            "initial_count": 2,
            "kms_key": None,
            "deployment_config": {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "ALL_AT_ONCE",
                        "WaitIntervalInSeconds": 0,
                    },
                    "TerminationWaitInSeconds": 300,
                    "MaximumExecutionTimeoutInSeconds": 3600,
                },
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "prod-diagnosis-5xx"}]},
            },
            "scaling": {
                "min": 2,
                "max": 6,
                "target_value": 20.0,
                "metric": "SageMakerVariantConcurrentRequestsPerModelHighResolution",
            },
            "tags": {"mlops-stack": "prod"},
            "timeout_s": 600,
            **changes,
        }
    )


@pytest.fixture
def api(aws: None) -> AwsApi:
    del aws
    return AwsApi(region=REGION, poll_s=0, sleep=lambda _s: None)


def _updates(api: AwsApi, outcome: str = "succeed") -> EndpointUpdates:
    fake = EndpointUpdates(outcome=outcome)
    fake.install(api.client("sagemaker"))
    return fake


def _names(kind: str) -> set[str]:
    return set(getattr(sagemaker_backend(), kind))


def test_nothing_is_created_while_no_version_passed(api: AwsApi) -> None:
    outs = deploy(api, _props(None))
    assert (outs["deployed_version"], outs["status"]) == (None, "pending")
    assert _names("endpoints") == _names("endpoint_configs") == _names("_models") == set()


def test_first_version_creates_model_config_endpoint_and_scaling(api: AwsApi) -> None:
    sent = Requests()
    sent.install(api.client("sagemaker"))
    outs = deploy(api, _props("3"))
    model, config = resource_names(_props("3"))
    assert (outs["deployed_version"], outs["endpoint_config_name"], outs["status"]) == (
        "3", config, "serving",
    )  # fmt: skip
    assert _names("_models") == {model}
    assert _names("endpoint_configs") == {config}
    live = api.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert live["EndpointConfigName"] == config
    created = api.client("sagemaker").describe_model(ModelName=model)
    assert created["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]["S3Uri"] == (
        "s3://store/mlflow/1/models/m-3/artifacts/"
    )
    # moto keeps neither the isolation flag nor the deployment config: check the requests.
    (request,) = sent.of("CreateModel")
    assert request["EnableNetworkIsolation"] is True
    assert request["PrimaryContainer"]["Mode"] == "SingleModel"
    (request,) = sent.of("CreateEndpoint")
    assert request["DeploymentConfig"] == _props()["deployment_config"]
    assert request["Tags"] == [{"Key": "mlops-stack", "Value": "prod"}]
    aas = api.client("application-autoscaling")
    (target,) = aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (
        f"endpoint/{ENDPOINT}/variant/primary", 2, 6,
    )  # fmt: skip
    (policy,) = aas.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 20.0


def test_names_follow_the_service_model() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    pattern = model.shape_for("EndpointConfigName").metadata["pattern"]
    for props in (_props("3"), _props("12345", endpoint_name="x" * 63)):
        for name in resource_names(props):
            assert len(name) <= 63
            assert re.fullmatch(pattern, name), name
    assert resource_names(_props("3")) != resource_names(_props("3", instance_type="ml.c5.large"))


def test_new_version_updates_blue_green_and_removes_the_old_one(api: AwsApi) -> None:
    fake = _updates(api)
    first = deploy(api, _props("3"))
    second = deploy(api, _props("4"), first)
    _, config = resource_names(_props("4"))
    assert (second["deployed_version"], second["endpoint_config_name"]) == ("4", config)
    (request,) = fake.requests
    assert request["EndpointConfigName"] == config
    assert request["RetainAllVariantProperties"] is True
    assert request["DeploymentConfig"]["AutoRollbackConfiguration"] == {
        "Alarms": [{"AlarmName": "prod-diagnosis-5xx"}]
    }
    assert _names("endpoint_configs") == {config}
    assert _names("_models") == {config}


def test_rolled_back_update_keeps_the_old_version(api: AwsApi) -> None:
    _updates(api, outcome="roll back")
    first = deploy(api, _props("3"))
    second = deploy(api, _props("4"), first)
    assert second["deployed_version"] == "3"
    assert second["endpoint_config_name"] == first["endpoint_config_name"]
    assert second["status"].startswith("rolled back: version 4: Rolled back: alarm")
    assert _names("endpoint_configs") == {first["endpoint_config_name"]}


def test_same_inputs_change_nothing(api: AwsApi) -> None:
    fake = _updates(api)
    first = deploy(api, _props("3"))
    again = deploy(api, _props("3"), first)
    assert again["deployed_version"] == "3"
    assert fake.requests == []


def test_killed_while_waiting_then_retried_adopts(api: AwsApi) -> None:
    """Crash safety: create called, the provider dies before returning; the next create adopts."""

    def die(_s: float) -> None:
        raise Killed

    dying = AwsApi(region=REGION, poll_s=0, sleep=die)
    fake = _updates(dying)
    with pytest.raises(Killed):
        deploy(dying, _props("3"))
    assert sagemaker_backend().endpoints[ENDPOINT].endpoint_status == "Creating"
    fake.install(api.client("sagemaker"))
    # The state recorded nothing: refresh + up calls create again with the same inputs.
    outs = deploy(api, _props("3"))
    assert outs["deployed_version"] == "3"
    assert len(_names("_models")) == len(_names("endpoint_configs")) == 1
    assert _names("endpoints") == {ENDPOINT}


def test_failed_endpoint_is_recreated(api: AwsApi) -> None:
    deploy(api, _props("3"))
    sagemaker_backend().endpoints[ENDPOINT].endpoint_status = "Failed"
    outs = deploy(api, _props("3"))
    assert outs["deployed_version"] == "3"


def test_gate_closing_later_keeps_what_is_served(api: AwsApi) -> None:
    first = deploy(api, _props("3"))
    outs = deploy(api, _props(None), first)
    assert (outs["deployed_version"], outs["status"]) == ("3", "serving")
    assert _names("endpoints") == {ENDPOINT}


def test_refresh_reads_what_is_live(api: AwsApi) -> None:
    outs = deploy(api, _props("3"))
    assert read_deployment(api, outs)["deployed_version"] == "3"
    sagemaker_backend().endpoints[ENDPOINT].endpoint_config_name = "someone-else"
    assert read_deployment(api, outs)["deployed_version"] is None


def test_delete_removes_everything_created(api: AwsApi) -> None:
    outs = deploy(api, _props("3"))
    undeploy(api, outs)
    assert _names("endpoints") == _names("endpoint_configs") == _names("_models") == set()
    aas = api.client("application-autoscaling")
    assert aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []
